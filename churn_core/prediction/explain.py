"""SHAP explanations of the churn ensemble, per customer and globally.

Each member is explained in its own log-odds space with the exact explainer for its kind
(``shap.TreeExplainer`` for LightGBM and XGBoost, ``shap.LinearExplainer`` for logistic
regression, both from the ``shap`` library), on the member's encoded features; one-hot
columns are summed back to the original feature, and member explanations are combined
with the ensemble's soft-voting weights. Because the ensemble averages probabilities and
then calibrates them, the combined values are an approximation of the ensemble's own
SHAP values: they rank drivers, they do not add up exactly to its probability.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import shap

from churn_core.prediction.ensemble import ChurnEnsemble


def _feature_index(prep, features: list[str]) -> np.ndarray:
    """For each encoded column of a fitted ColumnTransformer, the index of its source feature."""
    index: list[int] = []
    for name, transformer, columns in prep.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        if hasattr(transformer, "categories_"):
            for col, cats in zip(columns, transformer.categories_, strict=True):
                index += [features.index(col)] * len(cats)
        else:
            index += [features.index(col) for col in columns]
    return np.array(index)


class EnsembleExplainer:
    """Per-feature SHAP contributions (log-odds) of a fitted :class:`ChurnEnsemble`.

    Parameters
    ----------
    model : ChurnEnsemble or CompiledEnsemble
        A fitted ensemble (a compiled one encodes a customer once for all members).
    background : pandas.DataFrame of shape (n_background, n_features)
        Customers that define the "average" for the linear member (e.g. 200 training rows).
    """

    def __init__(self, model: ChurnEnsemble, background: pd.DataFrame):
        self.model = model
        self.features = list(model.features)
        self._parts = []
        # a compiled ensemble (churn_core.prediction.compiled) lends its one-thread boosters: same trees
        held = model.explainer_models() if hasattr(model, "explainer_models") else [None] * len(model.members_)
        for (_, pipe), weight, tree in zip(model.members_, model.weights_, held, strict=True):
            prep, clf = pipe.named_steps["prep"], pipe.named_steps["model"]
            if hasattr(clf, "coef_"):
                explainer = shap.LinearExplainer(clf, prep.transform(background[self.features]))
            else:
                explainer = shap.TreeExplainer(clf if tree is None else tree)
            self._parts.append((weight, prep, explainer, _feature_index(prep, self.features)))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """SHAP contribution of every feature for every customer.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_features)

        Returns
        -------
        pandas.DataFrame of shape (n_customers, n_features)
            Log-odds contributions; positive values push churn risk up.
        """
        X = X[self.features]
        total = np.zeros((len(X), len(self.features)))
        # a compiled ensemble (churn_core.prediction.compiled) encodes once for every member
        inputs = self.model.explainer_inputs(X) if hasattr(self.model, "explainer_inputs") else None
        for i, (weight, prep, explainer, index) in enumerate(self._parts):
            if weight <= 0:
                continue
            encoded = prep.transform(X) if inputs is None else inputs[i]
            with warnings.catch_warnings():  # shap notes LightGBM's list output on every call
                warnings.filterwarnings("ignore", "LightGBM binary classifier", UserWarning)
                values = explainer.shap_values(encoded)
            if isinstance(values, list):  # one array per class (LightGBM): keep the churn class
                values = values[-1]
            values = np.asarray(values)
            if values.ndim == 3:  # (n, columns, classes): keep the churn class
                values = values[..., -1]
            per_feature = np.zeros_like(total)
            np.add.at(per_feature.T, index, values.T)
            total += weight * per_feature
        return pd.DataFrame(total, columns=self.features, index=X.index)

    def global_importance(self, X: pd.DataFrame) -> pd.Series:
        """Mean absolute contribution of each feature over ``X``, largest first."""
        return self.contributions(X).abs().mean().sort_values(ascending=False)


def top_drivers_table(contributions: pd.DataFrame, n: int = 3) -> tuple[list[list[str]], list[list[str]]]:
    """:func:`top_drivers` for every row of a contributions table (vectorised)."""
    values = contributions.to_numpy()
    names = np.asarray(contributions.columns)
    order = np.argsort(-values, axis=1, kind="stable")
    ups, downs = [], []
    for row, idx in zip(values, order, strict=True):
        ups.append([names[j] for j in idx[:n] if row[j] > 0])
        downs.append([names[j] for j in idx[::-1][:n] if row[j] < 0])
    return ups, downs


def top_drivers(contributions: pd.Series, n: int = 3) -> tuple[list[str], list[str]]:
    """The ``n`` features that raise risk most and the ``n`` that lower it most.

    Parameters
    ----------
    contributions : pandas.Series
        One customer's row of :meth:`EnsembleExplainer.contributions`.
    """
    ordered = contributions.sort_values()
    up = [f for f, v in ordered[::-1].items() if v > 0][:n]
    down = [f for f, v in ordered.items() if v < 0][:n]
    return up, down
