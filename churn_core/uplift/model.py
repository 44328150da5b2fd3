"""The uplift model: how much a retention offer lowers each customer's churn probability.

:class:`UpliftModel` follows the scikit-learn estimator contract (``get_params`` / ``set_params``,
``clone``, parameters validated in :meth:`~UpliftModel.fit`, ``NotFittedError`` before it) around
a causalml meta-learner:

* ``learner="t"`` (default): :class:`causalml.inference.meta.BaseTClassifier`, one churn
  classifier on the treated customers and one on the control customers; the uplift is the
  difference of their probabilities.
* ``learner="x"``: :class:`causalml.inference.meta.BaseXClassifier` (Künzel et al. 2019), which
  also models the effect itself; the propensity is the campaign's known control share (the
  share of treated customers in the training data), not estimated.

The base learners are LightGBM (``base="lightgbm"``) or scikit-learn's
``HistGradientBoostingClassifier`` (``base="hist"``), small and regularised by default (uplift
is a small difference of two noisy probabilities). Features are the churn model's
(:data:`churn_core.prediction.features.MODEL_FEATURES`, leakage-checked by
:func:`~churn_core.prediction.features.feature_frame`), one-hot encoded inside the model
(:func:`~churn_core.prediction.features.make_preprocessor`), so a cross-validation fold never
sees statistics of its test part.

Sign convention: **uplift = churn probability without the offer − churn probability with it**
(positive: the offer keeps the customer). causalml estimates the effect on the outcome
``churned``; the model returns its negative.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from churn_core.prediction.features import MODEL_FEATURES, feature_frame, make_preprocessor

LEARNERS = ("t", "x")
BASES = ("lightgbm", "hist")


def _binary(values, name: str, n: int) -> np.ndarray:
    """``values`` as a bool array of length ``n``; a clear error otherwise."""
    arr = np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must be one value per customer: shape ({n},), got {arr.shape}")
    if arr.dtype == bool:
        return arr
    series = pd.Series(arr)
    bad = series.isna() | ~series.isin([0, 1, True, False])
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:10].tolist()
        raise ValueError(f"{name} must be 0/1 or True/False without missing values; bad at rows {rows}")
    return series.astype(bool).to_numpy()


class UpliftModel(BaseEstimator):
    """Uplift of a retention offer on churn, from treated and control customers of past campaigns.

    Parameters
    ----------
    learner : {"t", "x"}
        causalml meta-learner: T-learner (two outcome models) or X-learner.
    base : {"lightgbm", "hist"}
        Base classifier: LightGBM or scikit-learn's HistGradientBoostingClassifier.
    n_estimators : int
        Boosting rounds of each base classifier (>= 1).
    max_leaf_nodes : int
        Leaves per tree (>= 2).
    min_samples_leaf : int
        Customers per leaf at least (>= 1).
    learning_rate : float
        Shrinkage, in (0, 1].
    features : sequence of str
        Model features (warehouse names), leakage-checked; default the churn model's.
    random_state : int
        Seed of the base learners.

    Attributes
    ----------
    preprocessor_ : sklearn.compose.ColumnTransformer
        One-hot encoding fitted on the training customers.
    learner_ : causalml meta-learner
        The fitted BaseTClassifier or BaseXClassifier.
    treated_share_ : float
        Share of treated customers in the training data.
    n_features_in_ : int
        Number of features.
    """

    def __init__(
        self,
        learner: str = "t",
        base: str = "lightgbm",
        n_estimators: int = 150,
        max_leaf_nodes: int = 8,
        min_samples_leaf: int = 40,
        learning_rate: float = 0.05,
        features: Sequence[str] = MODEL_FEATURES,
        random_state: int = 0,
    ) -> None:
        self.learner = learner
        self.base = base
        self.n_estimators = n_estimators
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.learning_rate = learning_rate
        self.features = features
        self.random_state = random_state

    # -- parameters ------------------------------------------------------------------------------
    def _validate_params(self) -> None:
        problems = []
        if self.learner not in LEARNERS:
            problems.append(f"learner must be one of {LEARNERS}, got {self.learner!r}")
        if self.base not in BASES:
            problems.append(f"base must be one of {BASES}, got {self.base!r}")
        for name, low in (("n_estimators", 1), ("max_leaf_nodes", 2), ("min_samples_leaf", 1)):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                problems.append(f"{name} must be an integer >= {low}, got {value!r}")
        rate = self.learning_rate
        if not isinstance(rate, numbers.Real) or isinstance(rate, bool) or not 0 < rate <= 1:
            problems.append(f"learning_rate must be in (0, 1], got {rate!r}")
        if isinstance(self.features, str) or not len(list(self.features)):
            problems.append("features must be a non-empty sequence of column names")
        if problems:
            raise ValueError("; ".join(problems))

    def _classifier(self):
        if self.base == "lightgbm":
            from lightgbm import LGBMClassifier

            return LGBMClassifier(
                n_estimators=self.n_estimators, num_leaves=self.max_leaf_nodes, min_child_samples=self.min_samples_leaf,
                learning_rate=self.learning_rate, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                random_state=self.random_state, n_jobs=1, verbose=-1,
            )  # fmt: skip
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=self.n_estimators, max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            learning_rate=self.learning_rate, random_state=self.random_state, early_stopping=False,
        )  # fmt: skip

    def _regressor(self):
        if self.base == "lightgbm":
            from lightgbm import LGBMRegressor

            return LGBMRegressor(
                n_estimators=self.n_estimators, num_leaves=self.max_leaf_nodes, min_child_samples=self.min_samples_leaf,
                learning_rate=self.learning_rate, random_state=self.random_state, n_jobs=1, verbose=-1,
            )  # fmt: skip
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            max_iter=self.n_estimators, max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            learning_rate=self.learning_rate, random_state=self.random_state, early_stopping=False,
        )  # fmt: skip

    # -- fit / predict -----------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y, treatment) -> UpliftModel:
        """Fit on customers of past campaigns with their outcome and whether they got the offer.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_columns)
            Customers with warehouse column names; at least :attr:`features`.
        y : array-like of bool or 0/1, shape (n_customers,)
            True where the customer churned after the campaign.
        treatment : array-like of bool or 0/1, shape (n_customers,)
            True for customers who got the offer, False for the control group.

        Returns
        -------
        UpliftModel
            ``self``, fitted.

        Raises
        ------
        ValueError
            If a parameter is invalid (before any work), ``y`` or ``treatment`` is not binary or
            has the wrong length, or a group (treated / control) lacks churners or stayers.
        LeakageError
            If a feature is a declared leakage column.
        KeyError
            If a feature is missing from ``X``.
        """
        from causalml.inference.meta import BaseTClassifier, BaseXClassifier

        self._validate_params()
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame of customers, got {type(X).__name__}")
        n = len(X)
        churned = _binary(y, "y", n)
        treated = _binary(treatment, "treatment", n)
        for name, group in (("treated", treated), ("control", ~treated)):
            outcomes = churned[group]
            if outcomes.size < 2 or outcomes.all() or not outcomes.any():
                raise ValueError(
                    f"the {name} group has {outcomes.size} customers with {int(outcomes.sum())} churners: "
                    "an uplift model needs churners and stayers among both treated and control customers"
                )
        features = list(self.features)
        frame = feature_frame(X, features)
        self.preprocessor_ = make_preprocessor(features, scaler=None).fit(frame)
        encoded = self.preprocessor_.transform(frame)
        self.treated_share_ = float(treated.mean())
        groups = np.where(treated, "treated", "control")
        if self.learner == "t":
            self.learner_ = BaseTClassifier(learner=self._classifier(), control_name="control")
            self.learner_.fit(encoded, treatment=groups, y=churned.astype(int))
        else:
            self.learner_ = BaseXClassifier(
                outcome_learner=self._classifier(), effect_learner=self._regressor(), control_name="control"
            )
            self.learner_.fit(encoded, treatment=groups, y=churned.astype(int), p=np.full(n, self.treated_share_))
        self.n_features_in_ = len(features)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Uplift per customer: churn probability without the offer minus with it.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_columns)
            Customers with at least :attr:`features`.

        Returns
        -------
        numpy.ndarray of float, shape (n_customers,)
            Reduction of the churn probability by the offer (positive: the offer helps), in [-1, 1].

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        KeyError
            If a feature is missing from ``X``.
        """
        check_is_fitted(self, "learner_")
        encoded = self.preprocessor_.transform(feature_frame(X, list(self.features)))
        kwargs = {"p": np.full(len(X), self.treated_share_)} if self.learner == "x" else {}
        effect = np.asarray(self.learner_.predict(encoded, verbose=False, **kwargs), dtype=float)
        return np.clip(-effect.reshape(len(X), -1)[:, 0], -1.0, 1.0)
