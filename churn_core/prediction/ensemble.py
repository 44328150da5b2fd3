"""Tuned, weighted soft-voting ensemble with probability calibration.

:class:`ChurnEnsemble` is a scikit-learn classifier. Its ``fit`` does everything on the
data it is given, and nothing else:

1. tunes the hyperparameters of the tree families with optuna (TPE sampler, fixed seed),
   scoring each trial by inner stratified ``tune_cv``-fold ROC-AUC on that same training data;
2. computes inner stratified ``cv``-fold out-of-fold probabilities of every member;
3. fits soft-voting weights on the simplex that minimise the log loss of those
   out-of-fold probabilities (scipy SLSQP);
4. fits a calibrator (isotonic or sigmoid) on the weighted out-of-fold probabilities;
5. refits every member on all the training data.

Evaluated with an outer repeated k-fold (:func:`churn_core.prediction.model_selection.cross_validate`),
this is nested cross-validation: tuning, weights and calibration never see the outer
test fold.
"""

from __future__ import annotations

import logging
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import optuna
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils import Tags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from churn_core.prediction.features import MODEL_FEATURES, SCALERS, split_kinds
from churn_core.prediction.model_selection import SEED, Candidate

#: Default members: the strongest candidates of distinct kinds on the leaderboard.
#: (AdaBoost got a weight of ~0 next to these and cost most of the fitting time.)
DEFAULT_MEMBERS: tuple[Candidate, ...] = (
    Candidate("lightgbm", None, "smote"),
    Candidate("xgboost", None, "smote"),
    Candidate("logreg", "standard", "none"),
)
TUNED_FAMILIES: tuple[str, ...] = ("lightgbm", "xgboost")
#: Learned attributes :meth:`ChurnEnsemble.predict_proba` needs (present in models saved by older versions too).
_FITTED: tuple[str, ...] = ("members_", "weights_", "calibrator_", "classes_")


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

    A binary classifier following the scikit-learn estimator contract: ``__init__`` only
    stores its parameters, ``fit`` validates them (before any work) and sets the learned
    attributes ending in ``_``, and ``clone``/``get_params``/``set_params`` work as usual.
    Its input is a :class:`pandas.DataFrame` whose columns include ``features`` (other
    columns are ignored).

    Parameters are keyword-only (as in scikit-learn), so adding one never shifts another.

    Parameters
    ----------
    members : tuple of Candidate, default=DEFAULT_MEMBERS
        Member pipelines (see :class:`churn_core.prediction.model_selection.Candidate`);
        at least one.
    features : tuple of str, default=MODEL_FEATURES
        Feature columns (leakage-checked by each member's pipeline); at least one.
    tune_trials : int, default=20
        Optuna trials per member of a family in :data:`TUNED_FAMILIES`; 0 keeps the
        defaults. Must be >= 0.
    calibration : {"isotonic", "sigmoid"} or None, default="sigmoid"
        Calibrator fitted on the weighted out-of-fold probabilities; None for none.
    cv : int, default=5
        Inner stratified folds for the out-of-fold probabilities that the weights and
        the calibrator are fitted on. Must be >= 2.
    tune_cv : int, default=3
        Inner stratified folds scoring each optuna trial (used only when tuning).
        Must be >= 2.
    seed : int, default=SEED
        Seed of every random step, in [0, 2**32 - 1].

    Attributes
    ----------
    classes_ : numpy.ndarray of shape (2,)
        The two labels of ``y`` in sorted order; ``classes_[1]`` (1 for churn data) is
        the positive class, column 1 of :meth:`predict_proba`.
    n_features_in_ : int
        Number of feature columns the members use (``len(features)``).
    feature_names_in_ : numpy.ndarray of shape (n_features_in_,)
        Those feature names, in order.
    members_ : list of (str, Pipeline)
        Fitted members by name.
    weights_ : numpy.ndarray of shape (n_members,)
        Non-negative soft-voting weights summing to 1.
    tuned_params_ : dict of str to dict
        Best hyperparameters per tuned member name (empty when ``tune_trials=0``).
    calibrator_ : object or None
        Fitted calibrator, None when ``calibration`` is None.
    oof_proba_ : numpy.ndarray of shape (n_customers,)
        Calibrated inner out-of-fold probabilities of the training data.

    Notes
    -----
    Models saved before ``tune_cv`` existed are given ``tune_cv=3`` (the folds they were
    tuned with) when unpickled or loaded with skops, see :meth:`__setstate__`.
    """

    _parameter_constraints: ClassVar[dict[str, list]] = {
        "members": [tuple, list],
        "features": [tuple, list],
        "tune_trials": [Interval(Integral, 0, None, closed="left")],
        "calibration": [StrOptions({"isotonic", "sigmoid"}), None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "tune_cv": [Interval(Integral, 2, None, closed="left")],
        "seed": [Interval(Integral, 0, 2**32 - 1, closed="both")],
    }

    def __init__(
        self,
        *,
        members: tuple[Candidate, ...] = DEFAULT_MEMBERS,
        features: tuple[str, ...] = MODEL_FEATURES,
        tune_trials: int = 20,
        calibration: str | None = "sigmoid",
        cv: int = 5,
        tune_cv: int = 3,
        seed: int = SEED,
    ) -> None:
        self.members = members
        self.features = features
        self.tune_trials = tune_trials
        self.calibration = calibration
        self.cv = cv
        self.tune_cv = tune_cv
        self.seed = seed

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled or skops-loaded instance, filling parameters added since it was saved."""
        super().__setstate__({"tune_cv": 3, **state})

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _tunes(self, candidate: Candidate) -> bool:
        return self.tune_trials > 0 and candidate.family in TUNED_FAMILIES

    def _check_members_and_features(self) -> None:
        """Validate ``members`` and ``features`` beyond their types (non-empty, known names)."""
        if len(self.members) == 0:
            raise ValueError("The 'members' parameter of ChurnEnsemble must hold at least one Candidate; got none.")
        wrong = [m for m in self.members if not isinstance(m, Candidate)]
        if wrong:
            raise ValueError(f"The 'members' parameter of ChurnEnsemble must hold Candidate instances; got {wrong!r}.")
        if len(self.features) == 0:
            raise ValueError("The 'features' parameter of ChurnEnsemble must name at least one column; got none.")
        if not all(isinstance(f, str) for f in self.features) or len(set(self.features)) != len(self.features):
            raise ValueError(
                f"The 'features' parameter of ChurnEnsemble must name distinct columns; got {self.features!r}."
            )
        try:
            split_kinds(self.features)
        except KeyError as exc:
            raise ValueError(f"The 'features' parameter of ChurnEnsemble names an unknown column: {exc}.") from exc
        scalers = [m.scaler for m in self.members if m.scaler is not None and m.scaler not in SCALERS]
        if scalers:
            raise ValueError(f"The 'members' parameter of ChurnEnsemble holds unknown scalers {scalers}.")
        for m in self.members:  # unknown family or resampler, leakage columns: raise ValueError now
            m.pipeline(self.features, self.seed)

    def _feature_columns(self, X: pd.DataFrame) -> pd.DataFrame:
        """The ``features`` columns of ``X``, in order."""
        if issparse(X):
            raise TypeError(f"Sparse input is not supported: X must be a pandas DataFrame; got {type(X).__name__}.")
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"X must be a pandas DataFrame with the feature columns {list(self.features)}; got {type(X).__name__}."
            )
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise ValueError(f"X lacks feature columns named in the 'features' parameter: {missing}.")
        return X[list(self.features)]

    def _check_target(self, X: pd.DataFrame, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Return (classes, y encoded as 0/1) after checking that y is binary and fits the folds."""
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y")
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported: y must hold two classes. The type of the target is {y_type}."
            )
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) != 2:
            raise ValueError(f"y must hold two classes (stayed, churned); it holds one class only: {classes.tolist()}.")
        folds = {"cv": self.cv}
        if any(self._tunes(c) for c in self.members):
            folds["tune_cv"] = self.tune_cv
        least = int(np.bincount(y_enc).min())
        for name, k in folds.items():
            if least < k:
                raise ValueError(
                    f"The '{name}' parameter of ChurnEnsemble is {k}, but the least populated class of y "
                    f"has only {least} members; every stratified fold needs each class."
                )
        return classes, y_enc

    @_fit_context(prefer_skip_nested_validation=False)  # members carry user hyperparameters: let them be validated
    def fit(self, X: pd.DataFrame, y: ArrayLike) -> ChurnEnsemble:
        """Tune, weight, calibrate and refit the members on (X, y).

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_columns)
            Customers; must hold every column of ``features`` (others are ignored).
        y : array-like of shape (n_customers,)
            Binary target (1 for churned); exactly two classes, each with at least
            ``cv`` (and ``tune_cv`` when tuning) customers.

        Returns
        -------
        ChurnEnsemble
            This estimator, fitted.

        Raises
        ------
        ValueError
            Before any fitting or tuning: if a parameter is invalid
            (:class:`sklearn.utils._param_validation.InvalidParameterError`, a ValueError,
            for a wrong type or value of ``calibration``, ``cv``, ``tune_cv``,
            ``tune_trials``, ``seed``, ``members`` or ``features``); if ``members`` is
            empty or holds an unknown family, scaler or resampler; if ``features`` is empty,
            repeats a name or names an unknown or leakage column; if X lacks a feature
            column; if X and y differ in length; if y is not binary (one class, more than
            two, or continuous); or if a class of y has fewer customers than ``cv`` (or
            ``tune_cv`` when tuning).
        TypeError
            If X is not a pandas DataFrame.
        """
        self._check_members_and_features()
        X = self._feature_columns(X)
        classes, y = self._check_target(X, y)

        tuned_params: dict[str, dict[str, Any]] = {}
        members = []
        for cand in self.members:
            if self._tunes(cand):
                params, _ = tune(cand, X, y, self.tune_trials, cv=self.tune_cv, seed=self.seed, features=self.features)
                tuned_params[cand.name] = params
                cand = Candidate(cand.family, cand.scaler, cand.resampler, {**cand.params, **params})
            members.append(cand)
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.seed)
        pipes = [(c.name, c.pipeline(self.features, self.seed)) for c in members]
        oof = np.column_stack([cross_val_predict(p, X, y, cv=folds, method="predict_proba")[:, 1] for _, p in pipes])
        self.classes_ = classes
        self.n_features_in_ = len(self.features)
        self.feature_names_in_ = np.asarray(self.features, dtype=object)
        self.tuned_params_ = tuned_params
        self.weights_ = fit_weights(oof, y)
        raw = oof @ self.weights_
        self.calibrator_ = self._make_calibrator(raw, y)
        self.oof_proba_ = self._calibrate(raw)
        self.members_ = [(name, clone(p).fit(X, y)) for name, p in pipes]
        return self

    def _make_calibrator(self, raw: np.ndarray, y: np.ndarray) -> IsotonicRegression | LogisticRegression | None:
        if self.calibration == "isotonic":
            return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        if self.calibration == "sigmoid":  # Platt scaling on the log-odds of the ensemble
            return LogisticRegression(C=1e6, max_iter=1000).fit(_logit(raw), y)
        return None  # calibration=None (other values are rejected by the parameter validation)

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        if self.calibrator_ is None:
            return raw
        if isinstance(self.calibrator_, LogisticRegression):
            return self.calibrator_.predict_proba(_logit(raw))[:, 1]
        return np.clip(self.calibrator_.predict(raw), 0.0, 1.0)

    def set_inference_threads(self, n_jobs: int) -> ChurnEnsemble:
        """Let the fitted tree members predict on ``n_jobs`` threads (fitting used one per fold).

        Parameters
        ----------
        n_jobs : int
            Threads per member model that has an ``n_jobs`` parameter.

        Returns
        -------
        ChurnEnsemble
            This estimator.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the ensemble is not fitted.
        """
        check_is_fitted(self, _FITTED)
        for _, pipe in self.members_:
            model = pipe.named_steps["model"]
            if "n_jobs" in model.get_params():
                model.set_params(n_jobs=n_jobs)
        return self

    def member_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated churn probability of each member.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_columns)
            Customers with every column of ``features``.

        Returns
        -------
        numpy.ndarray of shape (n_customers, n_members)
            Probability of ``classes_[1]`` by each fitted member, in the order of ``members_``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the ensemble is not fitted.
        ValueError
            If X lacks a feature column.
        TypeError
            If X is not a pandas DataFrame.
        """
        check_is_fitted(self, _FITTED)
        X = self._feature_columns(X)
        return np.column_stack([p.predict_proba(X)[:, 1] for _, p in self.members_])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated class probabilities.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_columns)
            Customers with every column of ``features``.

        Returns
        -------
        numpy.ndarray of shape (n_customers, 2)
            Column ``j`` is the probability of ``classes_[j]``; column 1 is churn.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the ensemble is not fitted.
        ValueError
            If X lacks a feature column.
        TypeError
            If X is not a pandas DataFrame.
        """
        p = self._calibrate(self.member_proba(X) @ self.weights_)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted class labels: ``classes_[1]`` (churn) where its probability is >= 0.5.

        Churn when its calibrated probability is at least 0.5 (a tie at exactly 0.5 goes to churn, unlike an argmax).

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_columns)
            Customers with every column of ``features``.

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
            Labels taken from ``classes_``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the ensemble is not fitted.
        ValueError
            If X lacks a feature column.
        TypeError
            If X is not a pandas DataFrame.
        """
        proba = self.predict_proba(X)
        return self.classes_[(proba[:, 1] >= 0.5).astype(int)]
