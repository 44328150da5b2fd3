"""Plotly figures of the Model health page: drift per feature, scores over time, realised metrics, calibration.

Each function takes a small frame from :mod:`churn_core.monitoring` and a language code and returns a
:class:`plotly.graph_objects.Figure` with labels from the message catalog; nothing here queries data
or imports Streamlit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from churn_core.charts import _LAYOUT, _SIDE_LEGEND
from churn_core.i18n import feature_label, t

#: Colour of each drift status.
STATUS_COLORS: dict[str, str] = {"ok": "#4C78A8", "warn": "#F2A900", "alert": "#D62728"}
SOURCE_COLORS: dict[str, str] = {"command": "#4C78A8", "app": "#54A24B", "api": "#B279A2"}


def drift_bars(drift: pd.DataFrame, psi_warn: float, psi_alert: float, lang: str) -> go.Figure:
    """Horizontal bars of PSI per feature (largest on top), coloured by status, with both thresholds.

    Parameters
    ----------
    drift : pandas.DataFrame
        :func:`churn_core.monitoring.drift.snapshot_drift` (``feature``, ``psi``, ``status``).
    psi_warn, psi_alert : float
        The thresholds drawn as vertical lines.
    """
    shown = drift.dropna(subset=["psi"]).sort_values("psi")
    fig = go.Figure(
        go.Bar(
            x=shown["psi"],
            y=[feature_label(f, lang) for f in shown["feature"]],
            orientation="h",
            marker_color=[STATUS_COLORS.get(s, "#888") for s in shown["status"]],
            hovertemplate="%{y}: PSI %{x:.3f}<extra></extra>",
        )
    )
    for value, key in ((psi_warn, "health.status_warn"), (psi_alert, "health.status_alert")):
        fig.add_vline(x=value, line_dash="dash", line_color=STATUS_COLORS[key.rsplit("_", 1)[1]],
                      annotation_text=f"{t(key, lang)} {value:g}")  # fmt: skip
    fig.update_layout(**_LAYOUT, title=t("health.chart_psi_title", lang), xaxis_title="PSI",
                      height=max(360, 22 * len(shown) + 120), showlegend=False)  # fmt: skip
    return fig


def score_distribution_figure(runs: pd.DataFrame, lang: str) -> go.Figure:
    """Median churn score of every run over time with its 10th-90th percentile band, one trace per source.

    Parameters
    ----------
    runs : pandas.DataFrame
        :func:`churn_core.monitoring.drift.runs_drift` runs (``scored_at``, ``source``, ``score_p10``,
        ``score_p50``, ``score_p90``, ``score_mean``).
    """
    fig = go.Figure()
    for source, part in runs.sort_values("scored_at").groupby("source", sort=False):
        color = SOURCE_COLORS.get(str(source), "#888")
        label = t(f"health.source_{source}", lang)
        low, high = part["score_p50"] - part["score_p10"], part["score_p90"] - part["score_p50"]
        fig.add_trace(go.Scatter(
            x=part["scored_at"], y=part["score_p50"], mode="lines+markers", name=label, line_color=color,
            error_y={"type": "data", "symmetric": False, "array": high, "arrayminus": low, "thickness": 1},
            customdata=np.stack([part["score_mean"], part["score_p10"], part["score_p90"]], axis=-1),
            hovertemplate=t("health.chart_scores_hover", lang) + "<extra></extra>",
        ))  # fmt: skip
    fig.update_layout(**_LAYOUT, title=t("health.chart_scores_title", lang), legend=_SIDE_LEGEND,
                      yaxis={"title": t("health.chart_scores_y", lang), "tickformat": ".0%", "range": [0, 1]},
                      xaxis_title=t("health.col_scored_at", lang))  # fmt: skip
    return fig


def realised_metric_figure(table: pd.DataFrame, metric: str, cv: dict | None, lang: str) -> go.Figure:
    """Realised ``metric`` per snapshot with its 95 % interval, against the model card's CV mean ± std.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`churn_core.monitoring.performance.performance_table`.
    metric : str
        One of :data:`churn_core.monitoring.performance.METRIC_NAMES`.
    cv : dict, optional
        ``{"mean": float, "std": float}`` from the card (no reference line without it).
    """
    part = table[table["metric"] == metric].sort_values("snapshot_date")
    x = [str(d) for d in part["snapshot_date"]]
    fig = go.Figure(
        go.Scatter(
            x=x, y=part["value"], mode="markers", marker={"size": 12}, name=t("health.chart_realised", lang),
            error_y={"type": "data", "symmetric": False, "array": part["high"] - part["value"],
                     "arrayminus": part["value"] - part["low"]},
        )
    )  # fmt: skip
    if cv:
        fig.add_hrect(y0=cv["mean"] - cv["std"], y1=cv["mean"] + cv["std"], fillcolor="#888", opacity=0.15,
                      line_width=0)  # fmt: skip
        fig.add_hline(y=cv["mean"], line_dash="dash", annotation_text=t("health.chart_cv", lang))
    label = t(f"metric.{metric}", lang) if metric != "ece" else t("health.metric_ece", lang)
    fig.update_layout(**_LAYOUT, title=label, xaxis={"title": t("health.col_snapshot", lang), "type": "category"},
                      showlegend=False, height=320)  # fmt: skip
    return fig


def calibration_figure(calibration: pd.DataFrame, lang: str) -> go.Figure:
    """Observed churn rate (Wilson 95 % interval) against mean predicted probability per bin, with the diagonal."""
    part = calibration.dropna(subset=["predicted"])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#888"},
                             name=t("health.chart_perfect", lang)))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=part["predicted"], y=part["observed"], mode="markers+lines", name=t("health.chart_observed", lang),
        marker={"size": 6 + 14 * np.sqrt(part["n"] / max(1, part["n"].max()))},
        error_y={"type": "data", "symmetric": False, "array": part["high"] - part["observed"],
                 "arrayminus": part["observed"] - part["low"]},
    ))  # fmt: skip
    axis = {"tickformat": ".0%", "range": [0, 1]}
    fig.update_layout(**_LAYOUT, title=t("health.chart_calibration_title", lang), legend=_SIDE_LEGEND,
                      xaxis={"title": t("health.col_predicted", lang), **axis},
                      yaxis={"title": t("health.col_observed", lang), **axis})  # fmt: skip
    return fig
