"""Evaluation curves of out-of-fold churn probabilities (for the model page).

All curves take held-out (out-of-fold) probabilities; formulas are scikit-learn's
(``roc_curve``, ``precision_recall_curve``, ``calibration_curve``, ``confusion_matrix``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve


def roc_points(y, proba) -> pd.DataFrame:
    """ROC curve: ``fpr``, ``tpr``, ``threshold`` (arrays of shape (n_points,))."""
    fpr, tpr, thr = roc_curve(y, proba)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})


def pr_points(y, proba) -> pd.DataFrame:
    """Precision-recall curve: ``recall``, ``precision``."""
    precision, recall, _ = precision_recall_curve(y, proba)
    return pd.DataFrame({"recall": recall, "precision": precision})


def reliability(y, proba, n_bins: int = 10) -> pd.DataFrame:
    """Reliability diagram (quantile bins): ``predicted`` mean vs ``observed`` churn rate."""
    observed, predicted = calibration_curve(y, proba, n_bins=n_bins, strategy="quantile")
    return pd.DataFrame({"predicted": predicted, "observed": observed})


def cumulative_gain(y, proba, steps: int = 100) -> pd.DataFrame:
    """Cumulative gain and lift when contacting customers in order of predicted risk.

    Returns
    -------
    pandas.DataFrame of shape (steps, 3)
        ``share_contacted`` (0-1], ``share_of_churners_found`` (0-1), ``lift``.
    """
    y = np.asarray(y, dtype=float)
    order = np.argsort(-np.asarray(proba), kind="stable")
    found = np.cumsum(y[order]) / y.sum()
    shares = np.arange(1, steps + 1) / steps
    idx = np.maximum(1, np.round(shares * len(y)).astype(int)) - 1
    return pd.DataFrame({"share_contacted": shares, "share_of_churners_found": found[idx], "lift": found[idx] / shares})


def confusion(y, proba, threshold: float) -> pd.DataFrame:
    """Confusion matrix at ``threshold``: index actual (stayed, churned), columns predicted."""
    m = confusion_matrix(np.asarray(y, dtype=int), (np.asarray(proba) >= threshold).astype(int), labels=[0, 1])
    return pd.DataFrame(m, index=["stayed", "churned"], columns=["stayed", "churned"])


@dataclass(frozen=True)
class ProfitView:
    """The operating threshold of an offer and what it means on out-of-fold predictions.

    Attributes
    ----------
    threshold : float
        Churn probability above which contacting pays (:meth:`Economics.global_threshold`).
    curve : pandas.DataFrame
        :func:`churn_core.prediction.business.profit_curve` (profit in USD by threshold).
    confusion : pandas.DataFrame
        :func:`confusion` at ``threshold``.
    best : pandas.Series
        The row of ``curve`` with the highest profit.
    """

    threshold: float
    curve: pd.DataFrame
    confusion: pd.DataFrame
    best: pd.Series


def profit_view(oof: pd.DataFrame, economics) -> ProfitView:
    """:class:`ProfitView` of out-of-fold predictions (``churn_flag``, ``proba``, ``monthly_charges``)."""
    from churn_core.prediction.business import profit_curve

    threshold = economics.global_threshold(oof["monthly_charges"])
    curve = profit_curve(oof["churn_flag"], oof["proba"], oof["monthly_charges"], economics)
    return ProfitView(
        threshold, curve, confusion(oof["churn_flag"], oof["proba"], threshold), curve.loc[curve["profit_usd"].idxmax()]
    )


def card_metric(card: dict, metric: str, group: str = "all", features: str | None = None) -> float | None:
    """Cross-validated mean of ``metric`` for ``group`` from a model card; None if not evaluated.

    ``features`` defaults to the card's own feature set (``"extended_features"``, or ``"classic_features"``
    for the classic model's card).
    """
    features = features or f"{card.get('schema', 'extended')}_features"
    try:
        return float(card["evaluation"][features][group][metric]["mean"])
    except KeyError:
        return None
