"""Data drift: population stability index (PSI) per feature between the training data and what is scored.

**Reference.** The customers the champion was trained on: the snapshots of
``champion_info(settings)["trained_on"]`` (:mod:`churn_core.prediction.registry`);
without a registry, the earliest snapshot (:mod:`churn_core.data.snapshots`); without snapshots,
the ``customers`` table. At most ``max_fit_rows`` customers per snapshot (the deterministic
sample of :func:`churn_core.data.customers.customer_sample`).

**Bins.** Fixed by the reference: a numeric feature's interior edges are the unique deciles of
its reference values (at most 10 bins, right-closed, open outer bins; a feature with many ties
gets fewer bins), so every run and snapshot is binned alike and its counts are stored with the
run (:mod:`churn_core.monitoring.runs`). A categorical feature's bins are its values (the union
of the reference's and the run's).

**Index.** With reference shares :math:`e_i` and current shares :math:`a_i` over the bins,

.. math:: \\mathrm{PSI} = \\sum_i (a_i - e_i) \\, \\ln(a_i / e_i)

(Siddiqi, N. 2006, *Credit Risk Scorecards*, Wiley, ch. 8; Yurdakul, B. 2018, *Statistical
properties of the population stability index*, Western Michigan University). An empty bin's
share is replaced by :data:`EPSILON` (1e-4) so the logarithm is finite; a bin empty on both
sides adds nothing. Rule of thumb (Siddiqi): below 0.1 stable, 0.1-0.2 a moderate shift worth a
look, above 0.2 a significant shift. The thresholds are settings (``psi_warn``, ``psi_alert``).
The same index on the 10 probability bins of the score histogram measures score drift.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd

from churn_core.data.customers import customer_sample
from churn_core.data.warehouse import Warehouse
from churn_core.monitoring.runs import QUANTILES, RunSummary, feature_kinds, histogram, scoring_runs

_log = logging.getLogger(__name__)

#: Share given to an empty bin (see the module docstring).
EPSILON = 1e-4
#: Drift statuses, from none to most severe.
STATUSES: tuple[str, ...] = ("ok", "warn", "alert")


def _settings(settings=None):
    from churn_core.config import get_settings

    return settings or get_settings()


def psi(expected: np.ndarray, actual: np.ndarray, epsilon: float = EPSILON) -> float:
    """Population stability index of two histograms over the same bins.

    Parameters
    ----------
    expected, actual : array-like of shape (n_bins,)
        Counts (or shares) of the reference and of the current data, bin by bin.
    epsilon : float
        Share used for an empty bin.

    Returns
    -------
    float
        PSI >= 0 (0 for identical shares); NaN when either side is empty.

    Raises
    ------
    ValueError
        If the histograms have different lengths or negative counts.
    """
    e, a = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    if e.shape != a.shape:
        raise ValueError(f"histograms over different bins: {e.shape} vs {a.shape}")
    if (e < 0).any() or (a < 0).any():
        raise ValueError("counts must be >= 0")
    if e.sum() <= 0 or a.sum() <= 0:
        return float("nan")
    e, a = e / e.sum(), a / a.sum()
    both_empty = (e == 0) & (a == 0)
    e, a = np.where(e == 0, epsilon, e)[~both_empty], np.where(a == 0, epsilon, a)[~both_empty]
    return float(np.sum((a - e) * np.log(a / e)))


def status(value: float, settings=None) -> str:
    """``"alert"`` at or above ``psi_alert``, ``"warn"`` at or above ``psi_warn``, else ``"ok"``.

    A PSI that cannot be computed (NaN: no values on one side) is ``"warn"``: unknown is never healthy.
    """
    s = _settings(settings)
    if value is None or not np.isfinite(value):
        return "warn"
    return "alert" if value >= s.psi_alert else "warn" if value >= s.psi_warn else "ok"


# -- the reference ---------------------------------------------------------------------------------
def reference_dates(wh: Warehouse, settings=None, schema: str = "extended") -> list[dt.date]:
    """Snapshot dates of the reference (see the module docstring); ``[]`` means the ``customers`` table."""
    from churn_core.prediction.registry import champion_info

    try:
        trained = [dt.date.fromisoformat(str(d)[:10]) for d in champion_info(settings, schema).get("trained_on") or []]
    except (OSError, ValueError, KeyError) as exc:  # no champion (yet) or an unreadable pointer: the first snapshot
        _log.debug("no champion training dates (%s)", exc)
        trained = []
    known = set(snapshot_list(wh))
    if trained and known and set(trained) <= known:  # else: not this warehouse's snapshots
        return sorted(trained)
    return sorted(known)[:1]


def snapshot_list(wh: Warehouse) -> list[dt.date]:
    """The warehouse's snapshot dates, oldest first (``[]`` without the snapshots table)."""
    from churn_core.data.snapshots import snapshot_dates

    return sorted(snapshot_dates(wh))


def view(wh: Warehouse, snapshot_date: dt.date | None) -> Warehouse:
    """``wh.at(snapshot_date)``; the warehouse itself for None or without ``at``."""
    at = getattr(wh, "at", None)
    if snapshot_date is None or at is None:
        return wh
    return at(snapshot_date)


def snapshot_features(wh: Warehouse, snapshot_date: dt.date | None, settings=None) -> pd.DataFrame:
    """Model features of (a deterministic sample of at most ``max_fit_rows``) customers of one snapshot.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_features)
        Monitored features only (:func:`churn_core.monitoring.runs.feature_kinds`), no IDs.
    """
    from churn_core.data.customers import customer_columns

    v = view(wh, snapshot_date)
    columns = tuple(feature_kinds(customer_columns(v)))
    return customer_sample(v, _settings(settings).max_fit_rows, columns=columns)


def reference_frame(wh: Warehouse, settings=None) -> pd.DataFrame:
    """The reference customers' model features (see the module docstring), no IDs."""
    dates = reference_dates(wh, settings)
    frames = [snapshot_features(wh, d, settings) for d in dates] if dates else [snapshot_features(wh, None, settings)]
    return pd.concat(frames, ignore_index=True)


def bins_of(reference: pd.DataFrame) -> dict[str, list[float]]:
    """Interior bin edges per numeric feature: the unique deciles of the reference values."""
    bins = {}
    for name, kind in feature_kinds(reference.columns).items():
        if kind == "numeric":
            values = pd.to_numeric(reference[name], errors="coerce").dropna().to_numpy(dtype=float)
            bins[name] = np.unique(np.quantile(values, np.linspace(0.1, 0.9, 9))).tolist() if len(values) else []
    return bins


def reference_bins(wh: Warehouse, settings=None) -> dict[str, list[float]]:
    """The fixed bins of :func:`bins_of` for the warehouse's reference.

    Raises
    ------
    Exception
        What the warehouse raises when the reference cannot be read.
    """
    return bins_of(reference_frame(wh, settings))


# -- drift of a summary -------------------------------------------------------------------------
def summary_drift(reference: pd.DataFrame, feature_summary: dict[str, Any], settings=None) -> pd.DataFrame:
    """PSI of every feature of a run's ``feature_summary`` against the reference.

    The reference is binned on the run's stored edges (the reference bins when it was logged),
    so runs logged under an earlier reference are still compared correctly.

    Parameters
    ----------
    reference : pandas.DataFrame
        Reference features (:func:`reference_frame`).
    feature_summary : dict
        A ``feature_summary`` document (:mod:`churn_core.monitoring.runs`).

    Returns
    -------
    pandas.DataFrame
        ``feature``, ``kind``, ``psi``, ``status``, ``reference_mean`` and ``current_mean``
        (numeric features; shares of the most common reference value for categorical ones are not
        shown), sorted by PSI, largest first. Features absent from the reference are skipped.
    """
    rows = []
    for name, s in (feature_summary.get("features") or {}).items():
        if name not in reference.columns:
            continue
        # missing values are one more bin on both sides: a feature going blank is drift, not "fewer rows"
        if s["kind"] == "numeric":
            raw = pd.to_numeric(reference[name], errors="coerce")
            values = raw.dropna().to_numpy(dtype=float)
            expected = np.append(histogram(values, s["edges"]), int(raw.isna().sum()))
            value = psi(expected, np.append(np.asarray(s["hist"]), int(s.get("missing", 0))))
            ref_mean, cur_mean = (float(values.mean()) if len(values) else None), s.get("mean")
        else:
            ref_counts = reference[name].dropna().astype(str).value_counts()
            cats = sorted(set(ref_counts.index) | set(s["counts"]))
            expected = np.append(ref_counts.reindex(cats, fill_value=0).to_numpy(), int(reference[name].isna().sum()))
            value = psi(expected, [*(s["counts"].get(c, 0) for c in cats), int(s.get("missing", 0))])
            ref_mean = cur_mean = None
        rows.append({"feature": name, "kind": s["kind"], "psi": value, "status": status(value, settings),
                     "reference_mean": ref_mean, "current_mean": cur_mean})  # fmt: skip
    out = pd.DataFrame(rows, columns=["feature", "kind", "psi", "status", "reference_mean", "current_mean"])
    return out.sort_values("psi", ascending=False, na_position="last").reset_index(drop=True)


def frame_drift(reference: pd.DataFrame, current: pd.DataFrame, settings=None) -> pd.DataFrame:
    """PSI per feature between two frames of customers, on bins fixed by ``reference`` (see :func:`summary_drift`).

    Parameters
    ----------
    reference, current : pandas.DataFrame
        Customers with warehouse column names (model features are used; IDs ignored).
    """
    summary = RunSummary(bins_of(reference))
    summary.add(current, np.zeros(len(current)))
    return summary_drift(reference, summary.feature_summary(), settings)


def snapshot_drift(wh: Warehouse, snapshot_date: dt.date | None, settings=None) -> pd.DataFrame:
    """PSI per feature of one snapshot (None: ``customers``) against the reference (:func:`frame_drift`)."""
    return frame_drift(reference_frame(wh, settings), snapshot_features(wh, snapshot_date, settings), settings)


def score_quantiles(score_summary: dict[str, Any]) -> dict[str, float | None]:
    """``mean``, ``p10``, ``p50``, ``p90`` of a ``score_summary`` (None where missing)."""
    q = score_summary.get("quantiles") or {}
    return {"mean": score_summary.get("mean"), "p10": q.get("0.1"), "p50": q.get("0.5"), "p90": q.get("0.9")}


def runs_drift(wh: Warehouse, settings=None, limit: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drift of every logged scoring run (newest ``limit``) against the reference.

    Returns
    -------
    runs : pandas.DataFrame
        One row per run, oldest first: ``run_id``, ``source``, ``model_version``, ``snapshot_date``,
        ``scored_at``, ``n_rows``, ``max_psi``, ``worst_feature``, ``n_warn``, ``n_alert``,
        ``status``, ``score_psi`` (score histogram against the first run of the reference
        snapshot, NaN without one), ``score_mean``, ``score_p10``, ``score_p50``, ``score_p90``.
    per_feature : pandas.DataFrame
        ``run_id``, ``feature``, ``psi``, ``status`` for every run and feature.
    """
    cols = ["run_id", "source", "model_version", "snapshot_date", "scored_at", "n_rows", "max_psi",
            "worst_feature", "n_warn", "n_alert", "status", "score_psi", "score_mean", "score_p10", "score_p50",
            "score_p90"]  # fmt: skip
    runs = scoring_runs(wh, limit)
    if runs.empty:
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=["run_id", "feature", "psi", "status"])
    reference = reference_frame(wh, settings)
    ref_dates = set(reference_dates(wh, settings))
    ref_runs = runs[runs["snapshot_date"].isin(ref_dates)] if ref_dates else runs.iloc[0:0]
    ref_hist = np.asarray(ref_runs.iloc[0]["score_summary"].get("hist")) if len(ref_runs) else None
    rows, long = [], []
    for run in runs.itertuples(index=False):
        d = summary_drift(reference, run.feature_summary, settings)
        long += [{"run_id": run.run_id, **r} for r in d[["feature", "psi", "status"]].to_dict("records")]
        worst = d.iloc[0] if len(d) and np.isfinite(d["psi"].iloc[0]) else None
        hist = run.score_summary.get("hist")
        score_value = psi(ref_hist, np.asarray(hist)) if ref_hist is not None and hist else float("nan")
        q = score_quantiles(run.score_summary)
        n_warn, n_alert = int((d["status"] == "warn").sum()), int((d["status"] == "alert").sum())
        rows.append({
            "run_id": run.run_id, "source": run.source, "model_version": run.model_version,
            "snapshot_date": run.snapshot_date, "scored_at": run.scored_at, "n_rows": run.n_rows,
            "max_psi": None if worst is None else float(worst["psi"]),
            "worst_feature": None if worst is None else worst["feature"], "n_warn": n_warn, "n_alert": n_alert,
            "status": "alert" if n_alert else "warn" if n_warn else "ok", "score_psi": score_value,
            "score_mean": q["mean"], "score_p10": q["p10"], "score_p50": q["p50"], "score_p90": q["p90"],
        })  # fmt: skip
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(long, columns=["run_id", "feature", "psi", "status"])


__all__ = [
    "EPSILON",
    "QUANTILES",
    "STATUSES",
    "bins_of",
    "frame_drift",
    "psi",
    "reference_bins",
    "reference_dates",
    "reference_frame",
    "runs_drift",
    "score_quantiles",
    "snapshot_drift",
    "snapshot_features",
    "snapshot_list",
    "status",
    "summary_drift",
    "view",
]
