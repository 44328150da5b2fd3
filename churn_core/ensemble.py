"""Tuned, weighted soft-voting ensemble with probability calibration.

:class:`ChurnEnsemble` is a scikit-learn classifier. Its ``fit`` does everything on the
data it is given, and nothing else:

1. tunes the hyperparameters of the tree families with optuna (TPE sampler, fixed seed),
   scoring each trial by inner stratified k-fold ROC-AUC on that same training data;
2. computes inner out-of-fold probabilities of every member;
3. fits soft-voting weights on the simplex that minimise the log loss of those
   out-of-fold probabilities (scipy SLSQP);
4. fits a calibrator (isotonic or sigmoid) on the weighted out-of-fold probabilities;
5. refits every member on all the training data.

Evaluated with an outer repeated k-fold (:func:`churn_core.modeling.cross_validate`),
this is nested cross-validation: tuning, weights and calibration never see the outer
test fold.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import optuna
import pandas as pd
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from churn_core.features import MODEL_FEATURES
from churn_core.modeling import SEED, Candidate

#: Default members: the strongest candidates of distinct kinds on the leaderboard.
#: (AdaBoost got a weight of ~0 next to these and cost most of the fitting time.)
DEFAULT_MEMBERS: tuple[Candidate, ...] = (
    Candidate("lightgbm", None, "smote"),
    Candidate("xgboost", None, "smote"),
    Candidate("logreg", "standard", "none"),
)
TUNED_FAMILIES: tuple[str, ...] = ("lightgbm", "xgboost")


def _search_space(family: str, trial: optuna.Trial) -> dict[str, Any]:
    if family == "lightgbm":
        return {
            "n_estimators": trial.suggest_int("n_estimators", 100, 700, step=50),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.1, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 31),
            "min_child_samples": trial.suggest_int("min_child_samples", 10, 100),
            "subsample": trial.suggest_float("subsample", 0.6, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        }
    if family == "xgboost":
        return {
            "n_estimators": trial.suggest_int("n_estimators", 100, 700, step=50),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.1, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 6),
            "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 20.0, log=True),
            "subsample": trial.suggest_float("subsample", 0.6, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        }
    raise ValueError(f"no search space for {family!r}")


def tune(
    candidate: Candidate,
    X: pd.DataFrame,
    y: np.ndarray,
    n_trials: int,
    cv: int = 3,
    seed: int = SEED,
    features=MODEL_FEATURES,
) -> tuple[dict[str, Any], float]:
    """Tune one candidate's hyperparameters with optuna on (X, y) only.

    Returns
    -------
    params : dict
        Best hyperparameters found.
    score : float
        Their inner-CV ROC-AUC.
    """
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)

    def objective(trial: optuna.Trial) -> float:
        params = _search_space(candidate.family, trial)
        pipe = Candidate(candidate.family, candidate.scaler, candidate.resampler, params).pipeline(features, seed)
        proba = cross_val_predict(pipe, X, y, cv=folds, method="predict_proba")[:, 1]
        return roc_auc_score(y, proba)

    optuna.logging.set_verbosity(logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    return dict(study.best_params), float(study.best_value)


def fit_weights(oof: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Soft-voting weights on the simplex minimising log loss of ``oof @ w``.

    Parameters
    ----------
    oof : array-like of shape (n_customers, n_members)
        Out-of-fold churn probabilities of each member.
    y : array-like of shape (n_customers,)

    Returns
    -------
    numpy.ndarray of shape (n_members,)
        Non-negative weights summing to 1.
    """
    m = oof.shape[1]

    def loss(w: np.ndarray) -> float:
        return log_loss(y, np.clip(oof @ w, 1e-7, 1 - 1e-7), labels=[0, 1])

    res = minimize(
        loss,
        np.full(m, 1.0 / m),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * m,
        constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0},),
    )
    w = np.clip(res.x, 0, None)
    return w / w.sum()


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)).reshape(-1, 1)


class ChurnEnsemble(ClassifierMixin, BaseEstimator):
    """Weighted soft-voting ensemble of candidate pipelines, tuned and calibrated in ``fit``.

    Parameters
    ----------
    members : tuple of Candidate
        Member pipelines (see :class:`churn_core.modeling.Candidate`).
    features : tuple of str
        Feature columns (leakage-checked by each member's pipeline).
    tune_trials : int
        Optuna trials per family in :data:`TUNED_FAMILIES`; 0 keeps the defaults.
    calibration : {"isotonic", "sigmoid", None}
        Calibrator fitted on the weighted out-of-fold probabilities.
    cv : int
        Inner folds for out-of-fold probabilities and tuning.
    seed : int
        Seed of every random step.

    Attributes
    ----------
    members_ : list of (str, Pipeline)
        Fitted members by name.
    weights_ : numpy.ndarray of shape (n_members,)
    tuned_params_ : dict of str to dict
    calibrator_ : object or None
    oof_proba_ : numpy.ndarray of shape (n_customers,)
        Calibrated inner out-of-fold probabilities of the training data.
    classes_ : numpy.ndarray of shape (2,)
    """

    def __init__(
        self,
        members: tuple[Candidate, ...] = DEFAULT_MEMBERS,
        features: tuple[str, ...] = MODEL_FEATURES,
        tune_trials: int = 20,
        calibration: str | None = "sigmoid",
        cv: int = 5,
        seed: int = SEED,
    ):
        self.members = members
        self.features = features
        self.tune_trials = tune_trials
        self.calibration = calibration
        self.cv = cv
        self.seed = seed

    def fit(self, X: pd.DataFrame, y) -> ChurnEnsemble:
        y = np.asarray(y, dtype=int)
        X = X[list(self.features)]
        self.classes_ = np.array([0, 1])
        self.tuned_params_ = {}
        members = []
        for cand in self.members:
            if self.tune_trials and cand.family in TUNED_FAMILIES:
                params, _ = tune(cand, X, y, self.tune_trials, cv=3, seed=self.seed, features=self.features)
                self.tuned_params_[cand.name] = params
                cand = Candidate(cand.family, cand.scaler, cand.resampler, {**cand.params, **params})
            members.append(cand)
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.seed)
        pipes = [(c.name, c.pipeline(self.features, self.seed)) for c in members]
        oof = np.column_stack([cross_val_predict(p, X, y, cv=folds, method="predict_proba")[:, 1] for _, p in pipes])
        self.weights_ = fit_weights(oof, y)
        raw = oof @ self.weights_
        self.calibrator_ = self._make_calibrator(raw, y)
        self.oof_proba_ = self._calibrate(raw)
        self.members_ = [(name, clone(p).fit(X, y)) for name, p in pipes]
        return self

    def _make_calibrator(self, raw: np.ndarray, y: np.ndarray):
        if self.calibration == "isotonic":
            return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        if self.calibration == "sigmoid":  # Platt scaling on the log-odds of the ensemble
            return LogisticRegression(C=1e6, max_iter=1000).fit(_logit(raw), y)
        if self.calibration is None:
            return None
        raise ValueError(f"unknown calibration {self.calibration!r}")

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        if self.calibrator_ is None:
            return raw
        if isinstance(self.calibrator_, LogisticRegression):
            return self.calibrator_.predict_proba(_logit(raw))[:, 1]
        return np.clip(self.calibrator_.predict(raw), 0.0, 1.0)

    def set_inference_threads(self, n_jobs: int) -> ChurnEnsemble:
        """Let the fitted tree members predict on ``n_jobs`` threads (fitting used one per fold)."""
        for _, pipe in self.members_:
            model = pipe.named_steps["model"]
            if "n_jobs" in model.get_params():
                model.set_params(n_jobs=n_jobs)
        return self

    def member_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated churn probability of each member, shape (n_customers, n_members)."""
        X = X[list(self.features)]
        return np.column_stack([p.predict_proba(X)[:, 1] for _, p in self.members_])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated class probabilities, shape (n_customers, 2); column 1 is churn."""
        p = self._calibrate(self.member_proba(X) @ self.weights_)
        return np.column_stack([1.0 - p, p])
