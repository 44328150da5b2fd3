"""The Model health page's parts and Home's alert: cached calls into :mod:`churn_core.monitoring`, drawn.

Every computation goes through :func:`ui.data.cached` (keyed by the data and the champion's version)
with :func:`churn_core.monitoring.health.alerts_key` as an extra argument, so a new scoring run,
outcome, snapshot or build gives new results without a restart.

Home's alert (:func:`home_alert`) computes nothing: it reads the alerts stored for the current
data (:func:`churn_core.monitoring.health.stored_latest_alerts`), which the page stores when it
computes the latest snapshot's alerts (and a score or ingest command may store); with none stored
it shows nothing. The monitoring modules with SciPy, scikit-learn and Plotly Express (drift,
performance, charts) are imported only when the page draws, so importing this module for Home
stays light (issue #17).
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import streamlit as st

from churn_core.config import get_settings
from churn_core.escaping import markdown_text
from churn_core.formatting import fmt_number, to_kst
from churn_core.i18n import feature_label, fmt_int
from churn_core.monitoring import health
from ui.navigation import lang, relabel, tr

_log = logging.getLogger(__name__)
PAGE = "pages/health.py"


# -- cached computations (module-level functions: their import path is the cache key) ---------------
def _alerts(wh, version: str, snapshot: dt.date | None) -> list[dict]:
    from churn_core.monitoring import drift

    found = [a.as_dict() for a in health.health_alerts(wh, None, snapshot)]
    dates = drift.snapshot_list(wh)
    if snapshot is None or (dates and snapshot == dates[-1]):  # the latest snapshot's: what Home shows
        try:
            health.store_latest_alerts(wh, alerts=found)
        except Exception:  # the page still shows them; Home then shows nothing until they are stored
            _log.exception("model health alerts could not be stored for Home")
    return found


def _is_synthetic(wh, version: str, snapshot: dt.date) -> bool:
    from churn_core.data.snapshots import is_synthetic_snapshot

    return is_synthetic_snapshot(wh, snapshot)


def _snapshot_drift(wh, version: str, snapshot: dt.date | None) -> pd.DataFrame:
    from churn_core.monitoring import drift

    return drift.snapshot_drift(wh, snapshot)


def _runs(wh, version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from churn_core.monitoring import drift

    return drift.runs_drift(wh)


def _performance(wh, version: str) -> list[dict]:
    from churn_core.monitoring import performance

    return performance.realised_performance(wh)


def _reference(wh, version: str) -> list[dt.date]:
    from churn_core.monitoring import drift

    return drift.reference_dates(wh)


def _dates(wh, version: str) -> list[dt.date]:
    from churn_core.monitoring import drift

    return drift.snapshot_list(wh)


def _version() -> str:
    from ui.data import warehouse

    return health.alerts_key(warehouse())


def _call(func, *args):
    from ui.data import cached

    return cached(func, _version(), *args, model=True)


# -- shared pieces -----------------------------------------------------------------------------------
def _day(d) -> str:
    return d.isoformat() if isinstance(d, dt.date) else tr("health.latest")


def alert_text(alert: dict) -> str:
    """One alert in the UI language."""
    values = {"value": fmt_number(alert["value"], 3), "threshold": fmt_number(alert["threshold"], 3),
              "snapshot": _day(alert["snapshot_date"])}  # fmt: skip
    if alert["kind"] == "drift":
        return tr("health.alert_drift", feature=feature_label(alert["subject"], lang()), **values)
    return tr(f"health.alert_{alert['kind']}", **values)


def home_alert() -> None:
    """Home's short warning when the latest snapshot breaches a threshold, with a link to the page.

    Shown only to roles that may open the Model health page (its figures are the page's); others
    see nothing. Nothing is computed here (no drift, no metric, no scoring): the alerts stored for
    the current data are read (:func:`churn_core.monitoring.health.stored_latest_alerts`); with
    none stored, Home shows nothing.
    """
    from ui.auth import allowed
    from ui.data import warehouse

    if not allowed("health"):
        return
    try:
        stored = health.stored_latest_alerts(warehouse())
    except Exception:  # Home must show even when the stored alerts cannot be read
        _log.exception("stored model health alerts could not be read for Home")
        return
    alerts = [a for a in stored or [] if a["level"] == "alert"]
    if alerts:
        items = "; ".join(alert_text(a) for a in alerts[:3]) + (" …" if len(alerts) > 3 else "")
        st.warning(tr("health.home_alert", n=fmt_int(len(alerts)), items=items), icon=":material/monitor_heart:")
        st.page_link(PAGE, label=tr("nav.health"), icon=":material/monitor_heart:")


def intro() -> None:
    """Thresholds and the reference the page compares with."""
    s = get_settings()
    st.caption(tr("health.intro", warn=s.psi_warn, alert=s.psi_alert, auc_drop=s.auc_drop_alert,
                  ece=s.calibration_alert))  # fmt: skip
    ref = _call(_reference)
    dates = ", ".join(d.isoformat() for d in ref) if ref else tr("health.reference_customers")
    st.caption(tr("health.reference", dates=dates, version=markdown_text(_model_version())))


def _model_version() -> str:
    from churn_core.monitoring.runs import model_version_of
    from ui.data import model_version

    return model_version_of(model_version(), get_settings())


def snapshot_choice() -> dt.date | None:
    """Select box of the snapshots (default: the sidebar's "as of" date, else the latest); None without snapshots."""
    dates = _call(_dates)
    if not dates:
        st.caption(tr("health.no_snapshots"))
        return None
    from ui.data import selected_as_of

    chosen = selected_as_of() or dates[-1]
    options = list(reversed(dates))
    return st.selectbox(tr("health.snapshot"), options, index=options.index(chosen) if chosen in options else 0,
                        format_func=lambda d: d.isoformat(), key="health_snapshot")  # fmt: skip


def alerts(snapshot: dt.date | None) -> None:
    """Every alert and warning of ``snapshot``: errors for breaches, warnings below."""
    found = _call(_alerts, snapshot)
    st.subheader(tr("health.alerts_title"))
    if not found:
        st.success(tr("health.alerts_none", snapshot=_day(snapshot)), icon=":material/check_circle:")
    for a in found:
        (st.error if a["level"] == "alert" else st.warning)(alert_text(a))


# -- tabs --------------------------------------------------------------------------------------------
def drift_tab(snapshot: dt.date | None) -> None:
    """PSI per feature of ``snapshot`` (table and bars), then the drift of every logged scoring run."""
    s, lg = get_settings(), lang()
    if snapshot is not None and _call(_is_synthetic, snapshot):  # chosen here, maybe not in the sidebar
        st.warning(tr("snapshot.synthetic_banner", date=snapshot.isoformat(), drift=""), icon=":material/science:")
    if snapshot is not None and snapshot in _call(_reference):
        st.info(tr("health.is_reference"))
        st.code("churn-studio snapshot synthesize --drift", language="bash")
    table = _call(_snapshot_drift, snapshot)
    from churn_core.monitoring import charts

    st.plotly_chart(charts.drift_bars(table, s.psi_warn, s.psi_alert, lg), width="stretch")
    st.caption(tr("health.psi_caption"))
    shown = pd.DataFrame({
        tr("health.col_feature"): [feature_label(f, lg) for f in table["feature"]],
        tr("health.col_kind"): [tr(f"health.kind_{k}") for k in table["kind"]],
        tr("health.col_psi"): table["psi"].round(4),
        tr("health.col_status"): [tr(f"health.status_{x}") for x in table["status"]],
        tr("health.col_reference_mean"): table["reference_mean"],
        tr("health.col_current_mean"): table["current_mean"],
    })  # fmt: skip
    st.dataframe(shown, hide_index=True)
    st.subheader(tr("health.runs_title"))
    runs, _ = _call(_runs)
    if runs.empty:
        _no_runs()
        return
    st.caption(tr("health.runs_caption"))
    st.dataframe(_runs_table(runs), hide_index=True)


def _no_runs() -> None:
    st.info(tr("health.no_runs"), icon=":material/info:")
    st.code("churn-studio score", language="bash")


def _runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    lg = lang()
    newest = runs.iloc[::-1]
    return pd.DataFrame({
        tr("health.col_scored_at"): to_kst(newest["scored_at"]).to_numpy(),
        tr("health.col_source"): [tr(f"health.source_{x}") for x in newest["source"]],
        tr("health.col_model_version"): newest["model_version"].to_numpy(),
        tr("health.col_snapshot"): [d.isoformat() if isinstance(d, dt.date) else "" for d in newest["snapshot_date"]],
        tr("health.col_rows"): newest["n_rows"].to_numpy(),
        tr("health.col_max_psi"): newest["max_psi"].astype(float).round(4).to_numpy(),
        tr("health.col_worst"): [feature_label(f, lg) if isinstance(f, str) else "" for f in newest["worst_feature"]],
        tr("health.col_status"): [tr(f"health.status_{x}") for x in newest["status"]],
        tr("health.col_score_psi"): newest["score_psi"].astype(float).round(4).to_numpy(),
        tr("health.col_score_mean"): newest["score_mean"].astype(float).round(4).to_numpy(),
    })  # fmt: skip


def scores_tab() -> None:
    """Score distribution of every logged run over time."""
    runs, _ = _call(_runs)
    if runs.empty:
        _no_runs()
        return
    from churn_core.monitoring import charts

    st.plotly_chart(charts.score_distribution_figure(runs, lang()), width="stretch")
    st.caption(tr("health.scores_caption"))


def performance_tab() -> None:
    """Realised metrics per snapshot with outcomes, with 95 % intervals, against the model card's CV numbers."""
    s, lg = get_settings(), lang()
    results = _call(_performance)
    if not results:
        st.info(tr("health.no_outcomes"), icon=":material/info:")
        st.code("churn-studio score\nchurn-studio snapshot synthesize --drift\nchurn-studio score", language="bash")
        return
    from churn_core.monitoring import charts, performance

    st.caption(tr("health.perf_caption", n=fmt_int(s.bootstrap_resamples)))
    cv = performance.card_cv_metrics(s)
    table = performance.performance_table(results)
    metric = st.selectbox(tr("health.metric"), performance.METRIC_NAMES, format_func=_metric_label,
                          key=relabel("health_metric"))  # fmt: skip
    st.plotly_chart(charts.realised_metric_figure(table, metric, cv.get(metric), lg), width="stretch")
    for r in reversed(results):
        _snapshot_result(r, cv)


def _metric_label(metric: str) -> str:
    return tr("health.metric_ece") if metric == "ece" else tr(f"metric.{metric}")


def _snapshot_result(r: dict, cv: dict) -> None:
    s = get_settings()
    st.subheader(r["snapshot_date"].isoformat())
    how, _, what = r["scores_from"].partition(" ")
    key = "health.scores_from_run" if how == "run" else "health.scores_recomputed"
    observed = r["observed_date"].isoformat() if r["observed_date"] else "?"
    st.caption(tr(key, snapshot=r["snapshot_date"].isoformat(), n=fmt_int(r["n"]), events=fmt_int(r["n_events"]),
                  observed=observed, run=markdown_text(what)))  # fmt: skip
    if r["simulated"]:
        st.warning(tr("health.simulated"), icon=":material/science:")
    if r["too_few"]:
        st.warning(tr("health.too_few", n=fmt_int(r["n_events"]), min=fmt_int(s.min_outcome_events)))
    if r["metrics"] is None:
        return
    m = r["metrics"]
    st.dataframe(pd.DataFrame({
        tr("health.col_metric"): [_metric_label(x) for x in m["metric"]],
        tr("health.col_value"): [fmt_number(v, 3) for v in m["value"]],
        tr("health.col_ci"): [f"{fmt_number(lo, 3)} – {fmt_number(hi, 3)}" if pd.notna(lo) else "–"
                              for lo, hi in zip(m["low"], m["high"], strict=True)],
        tr("health.col_cv"): [f"{fmt_number(cv[x]['mean'], 3)} ± {fmt_number(cv[x]['std'], 3)}" if x in cv else "–"
                              for x in m["metric"]],
    }), hide_index=True)  # fmt: skip
    cal = r["calibration"]
    from churn_core.monitoring import charts

    with st.expander(tr("health.calibration_title")):
        st.plotly_chart(charts.calibration_figure(cal, lang()), width="stretch")
        st.dataframe(pd.DataFrame({
            tr("health.col_bin"): [f"{a:.0%}–{b:.0%}" for a, b in zip(cal["bin_low"], cal["bin_high"], strict=True)],
            tr("health.col_n"): cal["n"], tr("health.col_predicted"): cal["predicted"].round(3),
            tr("health.col_observed"): cal["observed"].round(3),
            tr("health.col_ci"): [f"{lo:.3f} – {hi:.3f}" if pd.notna(lo) else "–"
                                  for lo, hi in zip(cal["low"], cal["high"], strict=True)],
        }), hide_index=True)  # fmt: skip
