"""Alerts: which model-health thresholds the latest snapshot breaches.

Three kinds, each against a setting (:class:`churn_core.config.Settings`):

* ``drift`` — a feature's PSI between the reference and the latest snapshot
  (:func:`churn_core.monitoring.drift.snapshot_drift`) at or above ``psi_warn`` (level ``warn``)
  or ``psi_alert`` (level ``alert``);
* ``auc_drop`` — the realised ROC-AUC of the newest snapshot with outcomes is more than
  ``auc_drop_alert`` below the model card's cross-validated mean;
* ``calibration`` — its expected calibration error exceeds ``calibration_alert``.

Realised metrics with fewer than ``min_outcome_events`` churners raise no alert (too few to tell).
Only level ``alert`` counts as a breach (:func:`latest_alerts`, shown on Home).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from churn_core.data.warehouse import Warehouse
from churn_core.monitoring.drift import _settings, snapshot_drift, snapshot_list
from churn_core.monitoring.performance import card_cv_metrics, realised_performance


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
    """The breaches (level ``alert``) of the latest snapshot, as dicts (what Home shows)."""
    return [a.as_dict() for a in health_alerts(wh, settings) if a.level == "alert"]


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
