"""Churn-model metrics, always computed from predicted probabilities.

ROC-AUC and PR-AUC (average precision) come from probabilities, never from hard labels;
F1, precision and recall are taken at an explicit operating threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

METRICS: tuple[str, ...] = (
    "roc_auc", "pr_auc", "f1", "precision", "recall", "brier", "log_loss", "top_decile_lift",
)  # fmt: skip
#: Metrics where a larger value is better (the others are losses).


def top_decile_lift(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Churn rate among the 10 % highest-scored customers divided by the overall churn rate.

    Parameters
    ----------
    y_true : array-like of shape (n_customers,)
        1 for churned, 0 for stayed.
    proba : array-like of shape (n_customers,)
        Predicted churn probabilities.
    """
    y_true = np.asarray(y_true)
    n_top = max(1, int(np.ceil(0.1 * len(y_true))))
    top = np.argsort(-np.asarray(proba), kind="stable")[:n_top]
    return float(y_true[top].mean() / y_true.mean())


def churn_metrics(y_true, proba, threshold: float = 0.5) -> dict[str, float]:
    """All metrics of :data:`METRICS` for one set of predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_customers,)
        1 for churned, 0 for stayed; both classes must be present.
    proba : array-like of shape (n_customers,)
        Predicted churn probabilities in [0, 1].
    threshold : float
        Operating threshold for F1, precision and recall (flag churn when proba >= it).
    """
    y_true = np.asarray(y_true).astype(int)
    proba = np.clip(np.asarray(proba, dtype=float), 1e-7, 1 - 1e-7)
    labels = (proba >= threshold).astype(int)
    return {
        "roc_auc": roc_auc_score(y_true, proba),
        "pr_auc": average_precision_score(y_true, proba),
        "f1": f1_score(y_true, labels, zero_division=0),
        "precision": precision_score(y_true, labels, zero_division=0),
        "recall": recall_score(y_true, labels, zero_division=0),
        "brier": brier_score_loss(y_true, proba),
        "log_loss": log_loss(y_true, proba, labels=[0, 1]),
        "top_decile_lift": top_decile_lift(y_true, proba),
    }


def summarize_folds(per_fold: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over folds of each metric per group.

    Parameters
    ----------
    per_fold : pandas.DataFrame
        One row per (group, fold) with a column per metric; ``group`` is "all" or "seniors".

    Returns
    -------
    pandas.DataFrame
        Index ``group``, columns ``<metric>_mean`` and ``<metric>_std``.
    """
    agg = per_fold.groupby("group")[list(METRICS)].agg(["mean", "std"])
    agg.columns = [f"{m}_{s}" for m, s in agg.columns]
    return agg
