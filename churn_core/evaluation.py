"""Evaluation curves of out-of-fold churn probabilities (for the model page).

All curves take held-out (out-of-fold) probabilities; formulas are scikit-learn's
(``roc_curve``, ``precision_recall_curve``, ``calibration_curve``, ``confusion_matrix``).
"""

from __future__ import annotations

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
