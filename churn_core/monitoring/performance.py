"""Realised performance: how well the scores of a snapshot predicted who actually left.

Outcomes (table ``outcomes`` of :mod:`churn_core.data.snapshots`: ``snapshot_date``, ``customer_id``, ``churned``) say,
for the customers of an earlier snapshot, whether they churned by the next one. They are joined
with that snapshot's scores: the ``scores`` rows of its latest logged command run
(:func:`churn_core.prediction.batch.score_snapshot`). A snapshot with outcomes but no stored
scores is scored again with the current champion, and the result says so (``scores_from =
"recomputed"``).

Metrics (:mod:`churn_core.prediction.metrics`, from probabilities): ROC-AUC, PR-AUC (average
precision), top-decile lift, Brier score, and the expected calibration error (ECE: the
customer-weighted mean gap between predicted and observed churn over 10 equal-width probability
bins). Each gets a 95 % confidence interval from :func:`scipy.stats.bootstrap`: paired resampling
of (outcome, probability) pairs, percentile method, ``bootstrap_resamples`` resamples, fixed seed.
The calibration table's observed rates get Wilson 95 % intervals
(:func:`churn_core.analytics.eda.add_rate_ci`). With fewer than ``min_outcome_events``
churners the result is flagged ``too_few`` (the intervals are then too wide to tell anything).
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from churn_core.data.warehouse import Warehouse
from churn_core.monitoring.drift import _settings, view
from churn_core.prediction.metrics import top_decile_lift

_log = logging.getLogger(__name__)

#: Realised metrics, in display order; ``brier`` and ``ece`` are losses (lower is better).
METRIC_NAMES: tuple[str, ...] = ("roc_auc", "pr_auc", "top_decile_lift", "brier", "ece")
CALIBRATION_BINS = 10
SEED = 20_141


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = CALIBRATION_BINS) -> float:
    """Customer-weighted mean |mean predicted - observed rate| over ``n_bins`` equal-width probability bins."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    index = np.minimum((p * n_bins).astype(int), n_bins - 1)
    n = np.bincount(index, minlength=n_bins)
    gap = np.abs(np.bincount(index, p, n_bins) - np.bincount(index, y, n_bins))
    return float(gap.sum() / max(1, n.sum()))


def _point(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    if y.min() == y.max():  # one class only (a resample can draw it): undefined
        return np.full(len(METRIC_NAMES), np.nan)
    return np.array([roc_auc_score(y, p), average_precision_score(y, p), top_decile_lift(y, p),
                     brier_score_loss(y, p), expected_calibration_error(y, p)])  # fmt: skip


def realised_metrics(y_true, proba, n_resamples: int = 500, seed: int = SEED) -> pd.DataFrame:
    """The metrics of :data:`METRIC_NAMES` with 95 % paired-bootstrap intervals.

    Parameters
    ----------
    y_true : array-like of shape (n_customers,)
        1 (or True) for churned.
    proba : array-like of shape (n_customers,)
        Churn probabilities (0-1) scored before the outcome was known.
    n_resamples : int
        Bootstrap resamples (at most 10,000); 0: point estimates only (NaN intervals).
    seed : int
        Seed of the resampling (same numbers on every call).

    Returns
    -------
    pandas.DataFrame
        ``metric``, ``value``, ``low``, ``high`` (NaN intervals when both classes are not present).

    Raises
    ------
    ValueError
        If lengths differ or there are no customers.
    """
    y, p = np.asarray(y_true, dtype=float).ravel(), np.asarray(proba, dtype=float).ravel()
    if len(y) != len(p) or not len(y):
        raise ValueError(f"need as many outcomes as probabilities (>0), got {len(y)} and {len(p)}")
    point = _point(y, p)
    low = high = np.full(len(METRIC_NAMES), np.nan)
    if n_resamples > 0 and np.isfinite(point).all() and min(y.sum(), len(y) - y.sum()) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # degenerate resamples give NaN, reported as such
            res = stats.bootstrap((y, p), _point, paired=True, vectorized=False, n_resamples=int(min(n_resamples,
                                  10_000)), confidence_level=0.95, method="percentile",
                                  rng=np.random.default_rng(seed))  # fmt: skip
        low, high = np.asarray(res.confidence_interval.low), np.asarray(res.confidence_interval.high)
    return pd.DataFrame({"metric": METRIC_NAMES, "value": point, "low": low, "high": high})


def calibration_table(y_true, proba, n_bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Observed against predicted churn in ``n_bins`` equal-width probability bins.

    Returns
    -------
    pandas.DataFrame of shape (n_bins, 7)
        ``bin_low``, ``bin_high``, ``n``, ``predicted`` (mean probability), ``observed`` (churn
        rate), ``low`` and ``high`` (Wilson 95 % interval of the observed rate); NaN for an empty bin.
    """
    from churn_core.analytics.eda import add_rate_ci  # the EDA pages' Wilson intervals

    y, p = np.asarray(y_true, dtype=float), np.asarray(proba, dtype=float)
    index = np.minimum((p * n_bins).astype(int), n_bins - 1)
    bins = np.arange(n_bins)
    n = np.bincount(index, minlength=n_bins)
    counts = pd.DataFrame({
        "bin_low": bins / n_bins, "bin_high": (bins + 1) / n_bins, "n": n,
        "churned": np.bincount(index, y, n_bins).round(),
        "predicted": [p[index == b].mean() if n[b] else np.nan for b in bins],
    })  # fmt: skip
    out = add_rate_ci(counts).rename(columns={"churn_rate": "observed", "ci_low": "low", "ci_high": "high"})
    return out[["bin_low", "bin_high", "n", "predicted", "observed", "low", "high"]]


# -- from the warehouse -----------------------------------------------------------------------------
def outcome_dates(wh: Warehouse) -> list[dt.date]:
    """Snapshot dates that have recorded outcomes, oldest first (``[]`` without an ``outcomes`` table)."""
    if not _has_outcomes_table(wh):
        return []
    dates = wh.query("SELECT DISTINCT snapshot_date FROM {outcomes} ORDER BY snapshot_date")["snapshot_date"]
    return [pd.Timestamp(d).date() for d in dates]


def _has_outcomes_table(wh: Warehouse) -> bool:
    from churn_core.data.tables import TABLES

    return "outcomes" in TABLES and wh.table_exists("outcomes")


def latest_snapshot_run(wh: Warehouse, snapshot_date: dt.date) -> str | None:
    """Id of the newest logged command run of ``snapshot_date`` whose scores are stored, or None."""
    if not wh.table_exists("scoring_runs"):
        return None
    sql = ("SELECT run_id FROM {scoring_runs} WHERE snapshot_date = @d AND source = 'command' "
           "AND run_id IN (SELECT DISTINCT run_id FROM {scores}) ORDER BY scored_at DESC LIMIT 1")  # fmt: skip
    runs = wh.query(sql, {"d": snapshot_date})
    return None if runs.empty else str(runs["run_id"].iloc[0])


def _recomputed(wh: Warehouse, snapshot_date: dt.date, settings) -> tuple[pd.DataFrame, str]:
    """Probabilities of the snapshot's customers from the current champion (no stored scores)."""
    from churn_core.data.customers import customer_columns, customer_sample
    from churn_core.prediction.batch import champion_model

    model, version, _ = champion_model(settings)
    v = view(wh, snapshot_date)
    frame = customer_sample(v, 10**9, columns=tuple(c for c in customer_columns(v) if c != "segment"))
    proba = model.predict_proba(frame)[:, 1]
    return pd.DataFrame({"customer_id": frame["customer_id"], "churn_probability": proba}), version


def scored_outcomes(wh: Warehouse, snapshot_date: dt.date, settings=None) -> tuple[pd.DataFrame, str]:
    """Outcomes of ``snapshot_date`` joined with that snapshot's scores.

    Returns
    -------
    frame : pandas.DataFrame
        ``customer_id``, ``churned`` (bool), ``churn_probability``; customers without a score are left out.
    scores_from : str
        ``"run <id>"`` (stored scores of the latest run) or ``"recomputed <model version>"``.
    """
    outcomes = wh.query("SELECT customer_id, churned FROM {outcomes} WHERE snapshot_date = @d", {"d": snapshot_date})
    run = latest_snapshot_run(wh, snapshot_date)
    if run is not None:
        scores = wh.query("SELECT customer_id, churn_probability FROM {scores} WHERE run_id = @r", {"r": run})
        source = f"run {run}"
    else:
        scores, version = _recomputed(wh, snapshot_date, _settings(settings))
        source = f"recomputed {version}"
    joined = outcomes.merge(scores, on="customer_id", how="inner")
    joined["churned"] = joined["churned"].astype(bool)
    return joined[["customer_id", "churned", "churn_probability"]], source


def _synthetic(wh: Warehouse, dates: list[dt.date]) -> bool:
    from churn_core.data.snapshots import is_synthetic_snapshot

    return any(is_synthetic_snapshot(wh, d) for d in dates)


def card_cv_metrics(settings=None, schema: str = "extended") -> dict[str, dict[str, float]]:
    """Cross-validated ``mean`` and ``std`` of each metric for all customers, from the champion's model card.

    The card of the registry's champion, else (no champion) the one in ``models_dir``; ``{}`` when
    neither can be read or the card has no evaluation.
    """
    import json

    from churn_core.prediction.registry import champion_dir
    from churn_core.prediction.training import CARD_FILE, bundle_dir

    s = _settings(settings)
    try:
        directory = champion_dir(s, schema)
    except (OSError, ValueError, KeyError):  # no champion or an unreadable pointer
        directory = bundle_dir(s.models_dir, schema)
    try:
        card = json.loads((directory / CARD_FILE).read_text(encoding="utf-8"))
        cv = card["evaluation"][f"{card.get('schema', schema)}_features"]["all"]
    except (OSError, KeyError, ValueError):
        return {}
    return {m: {"mean": float(v["mean"]), "std": float(v.get("std", 0.0))} for m, v in cv.items() if "mean" in v}


def realised_performance(wh: Warehouse, settings=None, with_ci: bool = True) -> list[dict[str, Any]]:
    """Realised metrics of every snapshot with outcomes (see the module docstring).

    Returns
    -------
    list of dict
        Oldest first, one per snapshot: ``snapshot_date``, ``observed_date`` (the later snapshot),
        ``n``, ``n_events``, ``too_few`` (fewer churners than ``min_outcome_events``),
        ``simulated`` (either snapshot synthetic: outcomes drawn from the model's own probabilities),
        ``scores_from``, ``metrics`` (:func:`realised_metrics`) and ``calibration``
        (:func:`calibration_table`); ``metrics`` is None when no outcome could be joined. Without
        ``with_ci`` the intervals are NaN (point estimates for alerts, no bootstrap).
    """
    s = _settings(settings)
    results = []
    for d in outcome_dates(wh):
        frame, source = scored_outcomes(wh, d, s)
        observed = wh.query("SELECT MAX(observed_date) AS o FROM {outcomes} WHERE snapshot_date = @d", {"d": d})["o"]
        later = pd.Timestamp(observed.iloc[0]).date() if len(observed) and pd.notna(observed.iloc[0]) else None
        y, p = frame["churned"].to_numpy(dtype=float), frame["churn_probability"].to_numpy(dtype=float)
        n_events = int(y.sum())
        results.append({
            "snapshot_date": d, "observed_date": later, "n": len(frame), "n_events": n_events,
            "too_few": n_events < s.min_outcome_events, "simulated": _synthetic(wh, [x for x in (d, later) if x]),
            "scores_from": source,
            "metrics": realised_metrics(y, p, s.bootstrap_resamples if with_ci else 0) if len(frame) else None,
            "calibration": calibration_table(y, p) if len(frame) else None,
        })  # fmt: skip
    return results


def performance_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Long table of :func:`realised_performance`: ``snapshot_date``, ``metric``, ``value``, ``low``, ``high``…"""
    rows = []
    for r in results:
        if r["metrics"] is None:
            continue
        for m in r["metrics"].itertuples(index=False):
            rows.append({"snapshot_date": r["snapshot_date"], "metric": m.metric, "value": m.value, "low": m.low,
                         "high": m.high, "n": r["n"], "n_events": r["n_events"], "too_few": r["too_few"],
                         "simulated": r["simulated"]})  # fmt: skip
    cols = ["snapshot_date", "metric", "value", "low", "high", "n", "n_events", "too_few", "simulated"]
    return pd.DataFrame(rows, columns=cols)
