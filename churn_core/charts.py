"""Plotly figures of the EDA results, with labels from the message catalog.

Each function takes a small aggregated DataFrame from :mod:`churn_core.analytics.eda` and a
language code and returns a :class:`plotly.graph_objects.Figure`; nothing here queries
data or imports Streamlit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from churn_core.formatting import fmt_number, fmt_p_value
from churn_core.i18n import feature_label, t, value_label

CHURN_COLOR = "#D62728"
STAY_COLOR = "#1F77B4"
SENIOR_COLOR = "#E4572E"
OTHER_COLOR = "#4C78A8"
#: Height (px) kept free at the top of every figure for Plotly's toolbar (the modebar, about
#: 30 px high at the top right, shown on hover): titles start below it, legends sit lower still.
MODEBAR_PX = 36
_LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 50 + MODEBAR_PX, "b": 10},
    "font": {"size": 15},
    "title_y": 1.0,
    "title_yref": "container",
    "title_yanchor": "top",
    "title_pad_t": MODEBAR_PX,
}
#: Legend on the right, from the plot's top edge down: below the toolbar and clear of the
#: title (a legend above the plot would sit where the toolbar appears).
_SIDE_LEGEND = {"orientation": "v", "y": 1, "yanchor": "top", "x": 1.02, "xanchor": "left"}


def _pct_axis(fig: go.Figure, axis: str = "y") -> go.Figure:
    fig.update_layout(**{f"{axis}axis": {"tickformat": ".0%", "rangemode": "tozero"}})
    return fig


def churn_rate_bars(levels: pd.DataFrame, feature: str, lang: str) -> go.Figure:
    """Bar chart of churn rate per level with Wilson 95 % CI and customer counts.

    Parameters
    ----------
    levels : pandas.DataFrame
        Rows of :func:`churn_core.analytics.eda.churn_by_category` for one feature, in display order.
    """
    labels = [value_label(v, lang) for v in levels["level"]]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=levels["churn_rate"],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": levels["ci_high"] - levels["churn_rate"],
                "arrayminus": levels["churn_rate"] - levels["ci_low"],
            },
            text=[f"n={n:,}" for n in levels["n"]],
            textposition="inside",
            insidetextanchor="start",
            marker_color=CHURN_COLOR,
            hovertemplate="%{x}<br>%{y:.1%}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=t("eda.by_feature_title", lang, feature=feature_label(feature, lang)),
        xaxis_title=feature_label(feature, lang),
        yaxis_title=t("home.churn_rate", lang),
        **_LAYOUT,
    )
    return _pct_axis(fig)


def spread_bars(spread: pd.DataFrame, lang: str) -> go.Figure:
    """Horizontal bars of each feature's churn-rate spread, largest on top."""
    data = spread.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=data["spread"],
            y=[feature_label(f, lang) for f in data["feature"]],
            orientation="h",
            marker_color=CHURN_COLOR,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    # a narrow column: the note in parentheses goes on a smaller second line, so nothing is cut off
    main, sep, note = t("eda.spread_title", lang).partition(" (")
    title = f"{main}<br><sup>({note}</sup>" if sep else main
    fig.update_layout(title=title, height=max(400, 24 * len(data)), **_LAYOUT)
    fig.update_layout(margin_t=_LAYOUT["margin"]["t"] + 20)
    return _pct_axis(fig, "x")


def histogram(hist: pd.DataFrame, feature: str, lang: str, normalize: bool) -> go.Figure:
    """Overlaid histogram of one numeric feature for churned and stayed customers.

    Parameters
    ----------
    hist : pandas.DataFrame
        Rows of :func:`churn_core.analytics.eda.numeric_histograms` for ``feature``.
    normalize : bool
        Show each group's bins as a share of that group instead of counts.
    """
    fig = go.Figure()
    for flag, name, color in (
        (0, t("eda.stayed", lang), STAY_COLOR),
        (1, t("eda.churned", lang), CHURN_COLOR),
    ):
        grp = hist[hist["churn_flag"] == flag]
        y = grp["n"] / grp["n"].sum() if normalize and len(grp) else grp["n"]
        fig.add_bar(
            x=(grp["bin_low"] + grp["bin_high"]) / 2,
            y=y,
            width=(grp["bin_high"] - grp["bin_low"]).clip(lower=1e-9),
            name=name,
            marker_color=color,
            opacity=0.6,
        )
    fig.update_layout(
        barmode="overlay",
        title=t("eda.hist_title", lang, feature=feature_label(feature, lang)),
        xaxis_title=feature_label(feature, lang),
        yaxis_title=t("eda.share_axis" if normalize else "eda.customers_axis", lang),
        legend=_SIDE_LEGEND,
        **_LAYOUT,
    )
    if normalize:
        fig.update_layout(yaxis_tickformat=".0%")
    return fig


def tenure_curve(by_tenure: pd.DataFrame, lang: str) -> go.Figure:
    """Churn rate by tenure month as a line with a shaded 95 % CI band."""
    x = by_tenure["tenure"]
    fig = go.Figure(
        [
            go.Scatter(
                x=x, y=by_tenure["ci_high"], mode="lines", line_width=0, showlegend=False, hoverinfo="skip"
            ),
            go.Scatter(
                x=x, y=by_tenure["ci_low"], mode="lines", line_width=0, fill="tonexty",
                fillcolor="rgba(214,39,40,0.2)", name=t("eda.ci", lang), hoverinfo="skip",
            ),
            go.Scatter(
                x=x, y=by_tenure["churn_rate"], mode="lines+markers", line_color=CHURN_COLOR,
                name=t("home.churn_rate", lang), customdata=by_tenure["n"],
                hovertemplate="%{x}: %{y:.1%} (n=%{customdata:,})<extra></extra>",
            ),
        ]
    )  # fmt: skip
    fig.update_layout(title=t("eda.tenure_title", lang), xaxis_title=feature_label("tenure", lang), **_LAYOUT)
    return _pct_axis(fig)


def senior_bars(by_feature: pd.DataFrame, feature: str, lang: str) -> go.Figure:
    """Grouped bars of churn rate per level for seniors and others, with 95 % CIs."""
    fig = go.Figure()
    for senior, key, color in ((True, "eda.seniors", SENIOR_COLOR), (False, "eda.others", OTHER_COLOR)):
        grp = by_feature[(by_feature["feature"] == feature) & (by_feature["is_senior"] == senior)]
        fig.add_bar(
            x=[value_label(v, lang) for v in grp["level"]],
            y=grp["churn_rate"],
            name=t(key, lang),
            marker_color=color,
            error_y={
                "type": "data", "symmetric": False,
                "array": grp["ci_high"] - grp["churn_rate"],
                "arrayminus": grp["churn_rate"] - grp["ci_low"],
            },
            text=[f"n={n:,}" for n in grp["n"]],
            textposition="inside",
            insidetextanchor="start",
        )  # fmt: skip
    fig.update_layout(
        barmode="group",
        title=t("eda.senior_title", lang, feature=feature_label(feature, lang)),
        **_LAYOUT,
    )
    return _pct_axis(fig)


def reasons_bars(reasons: pd.DataFrame, lang: str) -> go.Figure:
    """Horizontal bars of churn reasons, coloured by churn category."""
    data = reasons.assign(
        category=[value_label(c, lang) for c in reasons["churn_category"]],
        reason=[value_label(r, lang) for r in reasons["churn_reason"]],
    ).iloc[::-1]
    fig = px.bar(
        data,
        x="n",
        y="reason",
        color="category",
        orientation="h",
        labels={
            "n": t("eda.customers_axis", lang),
            "reason": t("eda.reason", lang),
            "category": t("eda.category", lang),
        },
        hover_data={"share": ":.1%"},
    )
    fig.update_layout(title=t("eda.reasons_title", lang), height=max(450, 26 * len(data)), **_LAYOUT)
    return fig


def _diverging_heatmap(matrix: pd.DataFrame, x: list[str], y: list[str], title: str, height: int) -> go.Figure:
    fig = px.imshow(
        matrix.to_numpy(), x=x, y=y, zmin=-1, zmax=1, color_continuous_scale="RdBu_r", text_auto=".2f", aspect="auto"
    )
    fig.update_layout(title=title, height=height, **_LAYOUT)
    return fig


def correlation_heatmap(matrix: pd.DataFrame, lang: str) -> go.Figure:
    """Annotated heatmap of a correlation matrix on a diverging scale from -1 to 1."""
    names = [feature_label(c, lang) for c in matrix.columns]
    return _diverging_heatmap(matrix, names, names, t("eda.corr_title", lang), 700)


def loadings_heatmap(loadings: pd.DataFrame, lang: str) -> go.Figure:
    """Annotated heatmap of factor loadings (variables × factors), -1 to 1."""
    names = [feature_label(v, lang) for v in loadings.index]
    return _diverging_heatmap(loadings, list(loadings.columns), names, t("seg.loadings", lang), 600)


# -- churn model evaluation ---------------------------------------------------------------
def _named(metric: str, value: float | None) -> str:
    """Legend name of a curve with its cross-validated metric, when the model card has it."""
    return metric if value is None else f"{metric} {value:.3f}"


def _curve(x, y, name: str, title_key: str, x_key: str, y_key: str, lang: str, reference=((0, 1), (0, 1)), **trace):
    """A model-evaluation curve with a dotted reference line."""
    fig = go.Figure(
        [
            go.Scatter(x=x, y=y, mode=trace.pop("mode", "lines"), name=name, line_color=CHURN_COLOR, **trace),
            go.Scatter(
                x=reference[0], y=reference[1], mode="lines", line={"dash": "dot", "color": "grey"}, showlegend=False
            ),
        ]
    )
    fig.update_layout(title=t(title_key, lang), xaxis_title=t(x_key, lang), yaxis_title=t(y_key, lang), **_LAYOUT)
    return fig


def roc_figure(points: pd.DataFrame, auc: float | None, lang: str) -> go.Figure:
    """ROC curve with the diagonal of a random ranking."""
    return _curve(
        points["fpr"], points["tpr"], _named("ROC-AUC", auc), "model.roc_title", "model.fpr", "model.tpr", lang
    )


def pr_figure(points: pd.DataFrame, auc: float | None, base_rate: float, lang: str) -> go.Figure:
    """Precision-recall curve with the churn-rate baseline."""
    return _curve(
        points["recall"], points["precision"], _named("PR-AUC", auc), "model.pr_title", "model.recall",
        "model.precision", lang, reference=((0, 1), (base_rate, base_rate)),
    )  # fmt: skip


def reliability_figure(bins: pd.DataFrame, brier: float | None, lang: str) -> go.Figure:
    """Reliability diagram: observed churn rate against mean predicted probability per bin."""
    return _curve(
        bins["predicted"], bins["observed"], _named("Brier", brier), "model.calibration_title", "model.predicted",
        "model.observed", lang, mode="lines+markers",
    )  # fmt: skip


def gain_figure(gain: pd.DataFrame, lang: str) -> go.Figure:
    """Cumulative gain curve with lift on hover."""
    fig = _curve(
        gain["share_contacted"], gain["share_of_churners_found"], t("model.gain", lang), "model.gain_title",
        "model.contacted_share", "model.found_share", lang, customdata=gain["lift"],
        hovertemplate="%{x:.0%} → %{y:.0%} (lift %{customdata:.2f})<extra></extra>",
    )  # fmt: skip
    fig.update_layout(xaxis_tickformat=".0%", yaxis_tickformat=".0%")
    return fig


def profit_figure(curve: pd.DataFrame, threshold: float, lang: str) -> go.Figure:
    """Realised profit (USD) of contacting everyone above each threshold; the operating threshold marked."""
    fig = go.Figure(
        go.Scatter(
            x=curve["threshold"], y=curve["profit_usd"], mode="lines", line_color=CHURN_COLOR,
            customdata=curve["contacted"], hovertemplate="%{x:.2f}: $%{y:,.0f} (%{customdata:,})<extra></extra>",
        )
    )  # fmt: skip
    fig.add_vline(x=threshold, line_dash="dash", annotation_text=t("model.operating_threshold", lang))
    fig.update_layout(
        title=t("model.profit_title", lang),
        xaxis_title=t("model.threshold", lang),
        yaxis_title=t("model.profit_usd", lang),
        **_LAYOUT,
    )
    return fig


def confusion_figure(matrix: pd.DataFrame, lang: str) -> go.Figure:
    """Annotated confusion matrix (actual rows, predicted columns)."""
    labels = [t("eda.stayed", lang), t("eda.churned", lang)]
    fig = px.imshow(matrix.to_numpy(), x=labels, y=labels, text_auto=",d", color_continuous_scale="Reds", aspect="auto")
    fig.update_layout(
        title=t("model.confusion_title", lang),
        xaxis_title=t("model.predicted_label", lang),
        yaxis_title=t("model.actual_label", lang),
        coloraxis_showscale=False,
        **_LAYOUT,
    )
    return fig


def importance_figure(importance: pd.Series, lang: str, top: int = 15) -> go.Figure:
    """Horizontal bars of mean |SHAP| per feature (log-odds), largest on top."""
    data = importance.head(top).iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=data.to_numpy(), y=[feature_label(f, lang) for f in data.index], orientation="h", marker_color=CHURN_COLOR
        )
    )
    fig.update_layout(title=t("model.importance_title", lang), height=max(400, 28 * len(data)), **_LAYOUT)
    return fig


def drivers_figure(contributions: pd.Series, values: pd.Series, lang: str, top: int = 8) -> go.Figure:
    """One customer's largest SHAP contributions: red raises risk, blue lowers it."""
    chosen = contributions.reindex(contributions.abs().sort_values(ascending=False).index).head(top).iloc[::-1]
    names = [f"{feature_label(f, lang)} = {value_label(values[f], lang)}" for f in chosen.index]
    colors = [CHURN_COLOR if v > 0 else STAY_COLOR for v in chosen]
    fig = go.Figure(go.Bar(x=chosen.to_numpy(), y=names, orientation="h", marker_color=colors))
    fig.update_layout(
        title=t("model.drivers_title", lang),
        xaxis_title=t("model.drivers_axis", lang),
        height=max(320, 34 * len(chosen)),
        **_LAYOUT,
    )
    return fig


# -- survival, CLV and campaigns -----------------------------------------------------------
def km_figure(curves: pd.DataFrame, group: str, p_value: float, lang: str) -> go.Figure:
    """Kaplan–Meier curves per level with 95 % bands; the log-rank p-value in the title."""
    fig = go.Figure()
    palette = px.colors.qualitative.Set1
    for i, (level, grp) in enumerate(curves.groupby("level", sort=False)):
        color = palette[i % len(palette)]
        name = value_label(level, lang)
        fig.add_scatter(
            x=grp["month"], y=grp["ci_high"], line_width=0, showlegend=False, hoverinfo="skip", line_shape="hv"
        )
        fig.add_scatter(
            x=grp["month"], y=grp["ci_low"], line_width=0, fill="tonexty", showlegend=False, hoverinfo="skip",
            line_shape="hv", fillcolor=color.replace("rgb", "rgba").replace(")", ",0.15)"),
        )  # fmt: skip
        fig.add_scatter(x=grp["month"], y=grp["survival"], name=name, line_color=color, line_shape="hv")
    fig.update_layout(
        title=t("clv.km_title", lang, feature=feature_label(group, lang), p=fmt_p_value(p_value)),
        xaxis_title=feature_label("tenure", lang),
        yaxis_title=t("clv.survival", lang),
        **_LAYOUT,
    )
    return _pct_axis(fig)


def clv_scatter(clv: pd.Series | np.ndarray, cltv: pd.Series, corr: float, lang: str) -> go.Figure:
    """Our CLV (USD) against IBM's CLTV score, with their Pearson correlation."""
    fig = go.Figure(
        go.Scattergl(x=cltv, y=clv, mode="markers", marker={"size": 4, "opacity": 0.4, "color": STAY_COLOR})
    )
    fig.update_layout(
        title=t("clv.compare_title", lang, corr=f"{corr:.2f}"),
        xaxis_title=t("clv.ibm_cltv", lang),
        yaxis_title=t("clv.our_clv", lang),
        **_LAYOUT,
    )
    return fig


def sensitivity_figure(table: pd.DataFrame, lang: str) -> go.Figure:
    """Net gain (USD) of the campaign by churn reduction, one line per uptake."""
    fig = go.Figure()
    for uptake, grp in table.groupby("uptake"):
        fig.add_scatter(x=grp["churn_reduction"], y=grp["net_gain_usd"], name=f"{uptake:.0%}")
    fig.add_hline(y=0, line_dash="dot")
    fig.update_layout(
        title=t("clv.sensitivity_title", lang),
        xaxis_title=t("clv.churn_reduction", lang),
        yaxis_title=t("clv.net_gain", lang),
        legend_title=t("clv.uptake", lang),
        xaxis_tickformat=".0%",
        **_LAYOUT,
    )
    return fig


def clv_histogram(clv: pd.DataFrame, lang: str, bins: int = 60) -> go.Figure:
    """Distribution of CLV (USD) over customers."""
    fig = go.Figure(go.Histogram(x=clv["clv_usd"], nbinsx=bins, marker_color=STAY_COLOR))
    fig.update_layout(xaxis_title=t("clv.our_clv", lang), yaxis_title=t("eda.n", lang), **_LAYOUT)
    return fig


def revenue_at_risk_bars(risk: pd.DataFrame, feature: str, lang: str) -> go.Figure:
    """Revenue at risk over 12 months (USD) per level of ``feature``, customers as bar text."""
    fig = go.Figure(
        go.Bar(
            x=[value_label(v, lang) for v in risk["level"]],
            y=risk["revenue_at_risk_12m_usd"],
            text=[fmt_number(n) for n in risk["customers"]],
            customdata=[fmt_number(v) for v in risk["revenue_at_risk_12m_usd"]],
            hovertemplate="%{x}: $%{customdata} (%{text})<extra></extra>",
            marker_color=CHURN_COLOR,
        )
    )
    fig.update_layout(
        title=t("clv.risk_title", lang),
        xaxis_title=feature_label(feature, lang),
        yaxis_title=t("clv.risk_axis", lang),
        **_LAYOUT,
    )
    return fig


def k_selection_figures(scores: pd.DataFrame, lang: str) -> tuple[go.Figure, go.Figure]:
    """(silhouette by k, k-means inertia by k: the elbow) of a fitted Segmenter's ``scores_``."""
    figures = []
    for column, title in (("silhouette", "seg.silhouette"), ("inertia", "seg.elbow")):
        fig = go.Figure(go.Scatter(x=scores["k"], y=scores[column], mode="lines+markers"))
        fig.update_layout(
            title=t(title, lang),
            xaxis_title=t("seg.axis_k", lang),
            yaxis_title=t(f"seg.axis_{column}", lang),
            **_LAYOUT,
        )
        if column == "inertia":
            fig.update_layout(yaxis_tickformat=",.0f")
        figures.append(fig)
    return figures[0], figures[1]


#: Colours of the PCA map coloured by churn: stayed in a light blue drawn first, churned in
#: strong red on top, so the two groups stand apart.
PROJECTION_CHURN_COLORS: dict[int, str] = {0: "#9ECAE1", 1: CHURN_COLOR}


def projection_figure(
    proj: pd.DataFrame, color: str, lang: str, segment_names: dict[str, str] | None = None
) -> go.Figure:
    """PCA map of customers coloured by ``segment`` or by ``churned`` (translated labels).

    Parameters
    ----------
    proj : pandas.DataFrame
        :func:`churn_core.analytics.segments.projection_sample` (``pc1``, ``pc2``, ``segment``, ``churned``).
    color : {"segment", "churned"}
    segment_names : dict of str to str, optional
        Legend name of each segment (its number as text -> descriptive name).
    """
    fig = go.Figure()
    if color == "churned":
        for flag, key in ((0, "eda.stayed"), (1, "eda.churned")):
            part = proj[proj["churned"] == flag]
            fig.add_scattergl(
                x=part["pc1"], y=part["pc2"], mode="markers", name=t(key, lang),
                marker={"color": PROJECTION_CHURN_COLORS[flag], "size": 5}, opacity=0.45 if flag == 0 else 0.8,
            )  # fmt: skip
    else:
        palette = px.colors.qualitative.Set1
        for i, seg in enumerate(sorted(proj["segment"].unique(), key=lambda v: (len(str(v)), str(v)))):
            part = proj[proj["segment"] == seg]
            name = (segment_names or {}).get(str(seg), str(seg))
            fig.add_scattergl(
                x=part["pc1"], y=part["pc2"], mode="markers", name=name,
                marker={"color": palette[i % len(palette)], "size": 5}, opacity=0.6,
            )  # fmt: skip
    fig.update_layout(
        title=t("seg.map_title", lang),
        xaxis_title=t("seg.axis_pc1", lang),
        yaxis_title=t("seg.axis_pc2", lang),
        legend=_SIDE_LEGEND,
        **_LAYOUT,
    )
    return fig
