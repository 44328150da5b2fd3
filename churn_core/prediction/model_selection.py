"""Candidate churn models and their honest evaluation.

Every candidate is one imbalanced-learn pipeline: encoding (and scaling where it
matters) → optional resampling (SMOTE / BorderlineSMOTE) → classifier. Because the
resampler sits inside the pipeline, it only ever sees the training part of a fold.
Evaluation is repeated stratified k-fold (default 5 folds × 3 repeats, stratified on
churn × senior so every fold holds seniors), with out-of-fold probabilities and metrics
for all customers and for seniors separately.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE, BorderlineSMOTE
from imblearn.pipeline import Pipeline
from joblib import Parallel, delayed
from lightgbm import LGBMClassifier
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

from churn_core.prediction.features import MODEL_FEATURES, check_no_leakage, make_preprocessor
from churn_core.prediction.metrics import METRICS, churn_metrics, summarize_folds

SEED = 42
FAMILIES: tuple[str, ...] = ("logreg", "tree", "forest", "svm", "adaboost", "xgboost", "lightgbm")
#: Families whose input scale matters (the others get unscaled numbers).
SCALED_FAMILIES = {"logreg", "svm"}
RESAMPLERS: tuple[str, ...] = ("none", "smote", "borderline")


def make_classifier(family: str, params: dict[str, Any] | None = None, seed: int = SEED):
    """Return an unfitted classifier of ``family`` with project defaults and ``params``.

    Raises
    ------
    ValueError
        If ``family`` is not one of :data:`FAMILIES`.
    """
    params = dict(params or {})
    defaults: dict[str, tuple[Callable, dict]] = {
        "logreg": (LogisticRegression, {"C": 0.5, "max_iter": 3000}),
        "tree": (DecisionTreeClassifier, {"max_depth": 6, "min_samples_leaf": 25, "random_state": seed}),
        "forest": (
            RandomForestClassifier,
            {"n_estimators": 300, "min_samples_leaf": 5, "max_features": 0.3, "random_state": seed, "n_jobs": 1},
        ),
        "svm": (SVC, {"C": 0.5, "kernel": "rbf"}),
        "adaboost": (AdaBoostClassifier, {"n_estimators": 200, "learning_rate": 0.5, "random_state": seed}),
        "xgboost": (
            XGBClassifier,
            {
                "n_estimators": 300, "learning_rate": 0.05, "max_depth": 4, "subsample": 0.8,
                "colsample_bytree": 0.8, "tree_method": "hist", "n_jobs": 1, "random_state": seed,
                "eval_metric": "logloss",
            },
        ),
        "lightgbm": (
            LGBMClassifier,
            {
                "n_estimators": 300, "learning_rate": 0.03, "num_leaves": 15, "min_child_samples": 30,
                "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.7, "random_state": seed,
                "n_jobs": 1, "verbose": -1,
            },
        ),
    }  # fmt: skip
    if family not in defaults:
        raise ValueError(f"unknown model family {family!r}; expected one of {FAMILIES}")
    cls, base = defaults[family]
    model = cls(**{**base, **params})
    if family == "svm":  # probabilistic SVM: Platt scaling on internal 5-fold predictions
        return CalibratedClassifierCV(model, method="sigmoid", cv=5, ensemble=False)
    return model


@dataclass(frozen=True)
class Candidate:
    """One cell of the candidate grid: model family × scaler × resampling.

    Attributes
    ----------
    family : str
        One of :data:`FAMILIES`.
    scaler : str or None
        "standard", "robust", "minmax" for scaled families, None otherwise.
    resampler : str
        "none", "smote" or "borderline".
    params : dict
        Hyperparameters overriding the family defaults.
    """

    family: str
    scaler: str | None = None
    resampler: str = "none"
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def name(self) -> str:
        parts = [self.family] + ([self.scaler] if self.scaler else []) + [self.resampler]
        return "/".join(parts)

    def pipeline(self, features: Iterable[str] = MODEL_FEATURES, seed: int = SEED) -> Pipeline:
        """Build the unfitted pipeline of this candidate for the given feature columns."""
        features = list(features)
        check_no_leakage(features)
        steps: list[tuple[str, Any]] = [("prep", make_preprocessor(features, self.scaler))]
        if self.resampler == "smote":
            steps.append(("resample", SMOTE(random_state=seed)))
        elif self.resampler == "borderline":
            steps.append(("resample", BorderlineSMOTE(random_state=seed)))
        elif self.resampler != "none":
            raise ValueError(f"unknown resampler {self.resampler!r}")
        steps.append(("model", make_classifier(self.family, self.params, seed)))
        return Pipeline(steps)


def candidate_grid(families: Iterable[str] = FAMILIES) -> list[Candidate]:
    """The full grid: every family × scaler (where scale matters) × resampling."""
    grid = []
    for family in families:
        scalers = ("standard", "robust", "minmax") if family in SCALED_FAMILIES else (None,)
        grid += [Candidate(family, scaler, r) for scaler in scalers for r in RESAMPLERS]
    return grid


def strata(y: np.ndarray, is_senior: np.ndarray) -> np.ndarray:
    """Stratification labels: churn × senior (4 groups)."""
    return 2 * np.asarray(y, dtype=int) + np.asarray(is_senior, dtype=int)


def cv_splits(y, is_senior, n_splits: int = 5, n_repeats: int = 3, seed: int = SEED) -> list[tuple]:
    """Repeated stratified k-fold splits (train, test index arrays), stratified on churn × senior."""
    rskf = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    return list(rskf.split(np.zeros(len(y)), strata(y, is_senior)))


def _fit_predict(pipe, X, y, train, test) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    model = clone(pipe).fit(X.iloc[train], y[train])
    return model.predict_proba(X.iloc[test])[:, 1], time.perf_counter() - start


@dataclass
class CVResult:
    """Out-of-fold predictions and per-fold metrics of one model.

    Attributes
    ----------
    name : str
        Candidate name.
    oof : numpy.ndarray of shape (n_repeats, n_customers)
        Out-of-fold churn probability of every customer in each repeat.
    per_fold : pandas.DataFrame
        One row per (group, fold): group ("all"/"seniors"), fold, repeat and every metric.
    fit_seconds : float
        Total fitting time over all folds (seconds).
    """

    name: str
    oof: np.ndarray
    per_fold: pd.DataFrame
    fit_seconds: float

    def summary(self) -> pd.DataFrame:
        """Mean ± std of each metric over folds, per group."""
        return summarize_folds(self.per_fold)


def fold_metrics(y, is_senior, proba_by_fold, splits, threshold: float) -> pd.DataFrame:
    """Metrics per fold for all customers and for seniors, from test-fold probabilities."""
    rows = []
    for i, ((_, test), proba) in enumerate(zip(splits, proba_by_fold, strict=True)):
        for group, mask in (("all", np.ones(len(test), bool)), ("seniors", is_senior[test])):
            m = churn_metrics(y[test][mask], proba[mask], threshold)
            rows.append({"group": group, "fold": i, **m})
    return pd.DataFrame(rows)


def cross_validate(
    pipe,
    X: pd.DataFrame,
    y: np.ndarray,
    is_senior: np.ndarray,
    splits: list[tuple],
    threshold: float,
    name: str = "",
    n_jobs: int = 2,
) -> CVResult:
    """Fit ``pipe`` on every training fold and score its test fold.

    Parameters
    ----------
    pipe : estimator
        Unfitted pipeline (cloned for every fold).
    X : pandas.DataFrame of shape (n_customers, n_features)
    y : array-like of shape (n_customers,)
        1 for churned.
    is_senior : array-like of shape (n_customers,)
        True for customers aged 65+.
    splits : list of (train, test) index arrays
        From :func:`cv_splits`; consecutive groups of equal size form the repeats.
    threshold : float
        Operating threshold for F1, precision and recall.
    n_jobs : int
        Folds fitted in parallel (joblib processes).
    """
    y = np.asarray(y, dtype=int)
    is_senior = np.asarray(is_senior, dtype=bool)
    results = Parallel(n_jobs=n_jobs)(delayed(_fit_predict)(pipe, X, y, tr, te) for tr, te in splits)
    probas = [p for p, _ in results]
    n_test_total = sum(len(te) for _, te in splits)
    n_repeats = max(1, n_test_total // len(y))
    oof = np.full((n_repeats, len(y)), np.nan)
    per_repeat = len(splits) // n_repeats
    for i, ((_, test), proba) in enumerate(zip(splits, probas, strict=True)):
        oof[i // per_repeat, test] = proba
    per_fold = fold_metrics(y, is_senior, probas, splits, threshold)
    per_fold["repeat"] = per_fold["fold"] // per_repeat
    return CVResult(name, oof, per_fold, float(sum(t for _, t in results)))


def leaderboard(results: Iterable[CVResult]) -> pd.DataFrame:
    """One row per model: mean and std of every metric for all customers and for seniors.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``fit_seconds``, ``<metric>_mean``, ``<metric>_std`` (all
        customers) and ``senior_<metric>_mean``, ``senior_<metric>_std``; sorted by ROC-AUC.
    """
    rows = []
    for r in results:
        s = r.summary()
        row = {"model": r.name, "fit_seconds": r.fit_seconds}
        row |= s.loc["all"].to_dict()
        row |= {f"senior_{k}": v for k, v in s.loc["seniors"].to_dict().items()}
        rows.append(row)
    return pd.DataFrame(rows).sort_values("roc_auc_mean", ascending=False).reset_index(drop=True)


def leaderboard_display(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard with each metric as one "mean ± std" text column (for display).

    Returns
    -------
    pandas.DataFrame
        ``model``, every metric (all customers), ``senior_roc_auc``, ``senior_pr_auc``,
        ``fit_seconds``; rows in the order of ``board``.
    """
    out = pd.DataFrame({"model": board["model"]})
    for name in [*METRICS, "senior_roc_auc", "senior_pr_auc"]:
        out[name] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(board[f"{name}_mean"], board[f"{name}_std"], strict=True)]
    out["fit_seconds"] = board["fit_seconds"]
    return out
