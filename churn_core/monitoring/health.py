"""Alerts: which model-health thresholds the latest snapshot breaches.

Three kinds, each against a setting (:class:`churn_core.config.Settings`):

* ``drift`` — a feature's PSI between the reference and the latest snapshot
  (:func:`churn_core.monitoring.drift.snapshot_drift`) at or above ``psi_warn`` (level ``warn``)
  or ``psi_alert`` (level ``alert``);
* ``auc_drop`` — the realised ROC-AUC of the newest snapshot with outcomes is more than
  ``auc_drop_alert`` below the model card's cross-validated mean;
* ``calibration`` — its expected calibration error exceeds ``calibration_alert``.

Realised metrics with fewer than ``min_outcome_events`` churners raise no alert (too few to tell).
Only level ``alert`` counts as a breach (:func:`latest_alerts`).

**Stored alerts (issue #17).** Computing the alerts reads customer samples and may score a
snapshot again (realised performance of a snapshot without stored scores), so Home never
computes them: :func:`store_latest_alerts` computes the latest snapshot's alerts and writes them
to the ``analytics_results`` table (one row, result name :data:`ALERTS_RESULT`, with
:func:`alerts_key` as its ``build_key``: the monitoring data and the warehouse build; a build
replaces the table, dropping it), and :func:`stored_latest_alerts`
reads them back, or None when none are stored for the current key (a new scoring run, outcome,
snapshot or build makes a new key). The Model health page stores what it computes for the latest
snapshot; ``store_latest_alerts`` has the after-build step signature ``(wh, progress)`` so a
score or ingest command can store them too. This module imports the drift and performance
modules (SciPy, scikit-learn) only when alerts are computed, not to read stored ones.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

import pandas as pd

from churn_core.data.warehouse import Warehouse

_log = logging.getLogger(__name__)

#: Result name of the stored alerts in ``analytics_results`` (:func:`store_latest_alerts`).
ALERTS_RESULT = "health_alerts"
_RESULTS_TABLE = "analytics_results"


@dataclass(frozen=True)
class Alert:
    """One threshold reached.

    Attributes
    ----------
    kind : {"drift", "auc_drop", "calibration"}
    subject : str
        The feature (drift) or the metric.
    value, threshold : float
        What was measured and the setting it reached (for ``auc_drop``: the drop in ROC-AUC).
    level : {"warn", "alert"}
    snapshot_date : datetime.date or None
        The snapshot concerned (None: the ``customers`` table without snapshots).
    """

    kind: str
    subject: str
    value: float
    threshold: float
    level: str
    snapshot_date: dt.date | None

    def as_dict(self) -> dict:
        """The fields as a dict."""
        return asdict(self)


def health_alerts(wh: Warehouse, settings=None, snapshot_date: dt.date | None = None) -> list[Alert]:
    """Every alert and warning for ``snapshot_date`` (default: the latest snapshot), most severe first.

    Parameters
    ----------
    wh : Warehouse
        The warehouse (snapshots, outcomes, scores).
    settings : Settings, optional
        Thresholds.
    snapshot_date : datetime.date, optional
        Snapshot whose drift is checked; realised performance is that of the newest snapshot with
        outcomes up to it.

    Returns
    -------
    list of Alert
    """
    from churn_core.monitoring.drift import _settings, snapshot_drift, snapshot_list
    from churn_core.monitoring.performance import card_cv_metrics, realised_performance

    s = _settings(settings)
    dates = snapshot_list(wh)
    target = snapshot_date if snapshot_date is not None else (dates[-1] if dates else None)
    alerts = []
    drift = snapshot_drift(wh, target if target in dates else None, s)
    for row in drift.itertuples(index=False):
        if row.status in ("warn", "alert"):
            threshold = s.psi_alert if row.status == "alert" else s.psi_warn
            alerts.append(Alert("drift", row.feature, float(row.psi), threshold, row.status, target))
    cv = card_cv_metrics(s).get("roc_auc", {}).get("mean")
    realised = [r for r in realised_performance(wh, s, with_ci=False) if target is None or r["snapshot_date"] <= target]
    if realised and realised[-1]["metrics"] is not None and not realised[-1]["too_few"]:
        r = realised[-1]
        values = dict(zip(r["metrics"]["metric"], r["metrics"]["value"], strict=True))
        if cv is not None and cv - values["roc_auc"] > s.auc_drop_alert:
            alerts.append(Alert("auc_drop", "roc_auc", float(cv - values["roc_auc"]), s.auc_drop_alert, "alert",
                                r["snapshot_date"]))  # fmt: skip
        if values["ece"] > s.calibration_alert:
            alerts.append(Alert("calibration", "ece", float(values["ece"]), s.calibration_alert, "alert",
                                r["snapshot_date"]))  # fmt: skip
    return sorted(alerts, key=lambda a: (a.level != "alert", -a.value))


def latest_alerts(wh: Warehouse, settings=None) -> list[dict]:
    """The breaches (level ``alert``) of the latest snapshot, as dicts, computed now (Home: stored ones)."""
    return [a.as_dict() for a in health_alerts(wh, settings) if a.level == "alert"]


def alerts_key(wh: Warehouse) -> str:
    """Identity of the data the latest snapshot's alerts describe: :func:`monitoring_version` and the build.

    Parameters
    ----------
    wh : Warehouse
        The warehouse (a snapshot view gives its base warehouse's key).

    Returns
    -------
    str
        ``<monitoring_version>|<raw_sha256>|<built_at>``: a new scoring run, outcome, snapshot or
        build gives another key.
    """
    meta = wh.meta()
    return f"{monitoring_version(wh)}|{meta.get('raw_sha256', '')}|{meta.get('built_at', '')}"


def store_latest_alerts(
    wh: Warehouse,
    progress: Callable[[float, str], None] | None = None,
    settings=None,
    alerts: list[dict] | None = None,
) -> list[dict]:
    """Compute (unless given) and store every alert and warning of the latest snapshot under :func:`alerts_key`.

    Parameters
    ----------
    wh : Warehouse
        The warehouse (snapshots, outcomes, scores); the rows go to its ``analytics_results`` table.
    progress : callable(fraction, message), optional
        Told when the alerts are being computed (the after-build step signature).
    settings : Settings, optional
        Thresholds.
    alerts : list of dict, optional
        The latest snapshot's alerts already computed (:meth:`Alert.as_dict` of
        :func:`health_alerts` with no snapshot date): stored as given.

    Returns
    -------
    list of dict
        The alerts stored, most severe first.
    """
    key = alerts_key(wh)  # taken before computing: the data the alerts are computed from
    if alerts is None:
        if progress is not None:
            progress(0.96, "model health: alerts of the latest snapshot")
        alerts = [a.as_dict() for a in health_alerts(wh, settings)]
    payload = json.dumps([{**a, "snapshot_date": _iso(a["snapshot_date"])} for a in alerts])
    row = pd.DataFrame({"name": [ALERTS_RESULT], "build_key": [key], "payload": [payload],
                        "computed_at": [pd.Timestamp(dt.datetime.now(dt.UTC))]})  # fmt: skip
    wh.merge_rows(_RESULTS_TABLE, row, update=True)  # one row per result name: the newest alerts
    return alerts


def stored_latest_alerts(wh: Warehouse) -> list[dict] | None:
    """The latest snapshot's alerts stored for the current :func:`alerts_key`; None when none are stored.

    Reads one small table: no customer data, no model, no metric is computed.

    Returns
    -------
    list of dict or None
        :meth:`Alert.as_dict` of each alert and warning, most severe first (``snapshot_date`` a
        ``datetime.date`` or None).
    """
    if not wh.table_exists(_RESULTS_TABLE):
        return None
    sql = "SELECT payload FROM {analytics_results} WHERE name = @name AND build_key = @key"
    rows = wh.query(sql, {"name": ALERTS_RESULT, "key": alerts_key(wh)})
    if rows.empty:
        return None
    return [{**a, "snapshot_date": _date(a["snapshot_date"])} for a in json.loads(rows["payload"].iloc[0])]


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def monitoring_version(wh: Warehouse) -> str:
    """A cheap fingerprint of the monitoring data (runs, outcomes, snapshots): a cache key for pages."""
    parts = []
    for table, column in (("scoring_runs", "scored_at"), ("outcomes", "recorded_at"), ("snapshots", "ingested_at")):
        try:
            if wh.table_exists(table):
                row = wh.query(f"SELECT COUNT(*) AS n, MAX({column}) AS t FROM {{{table}}}").iloc[0]
                parts.append(f"{table}:{row['n']}:{row['t']}")
        except Exception:  # a table not declared yet (design parts landing)
            parts.append(f"{table}:-")
    return "|".join(parts)
