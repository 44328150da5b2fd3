"""Plotly figures of the EDA results, with labels from the message catalog.

Each function takes a small aggregated DataFrame from :mod:`churn_core.eda` and a
language code and returns a :class:`plotly.graph_objects.Figure`; nothing here queries
data or imports Streamlit.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from churn_core.i18n import feature_label, t, value_label

CHURN_COLOR = "#D62728"
STAY_COLOR = "#1F77B4"
SENIOR_COLOR = "#E4572E"
OTHER_COLOR = "#4C78A8"
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "font": {"size": 15}}


def _pct_axis(fig: go.Figure, axis: str = "y") -> go.Figure:
    fig.update_layout(**{f"{axis}axis": {"tickformat": ".0%", "rangemode": "tozero"}})
    return fig


def churn_rate_bars(levels: pd.DataFrame, feature: str, lang: str) -> go.Figure:
    """Bar chart of churn rate per level with Wilson 95 % CI and customer counts.

    Parameters
    ----------
    levels : pandas.DataFrame
        Rows of :func:`churn_core.eda.churn_by_category` for one feature, in display order.
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
    fig.update_layout(title=t("eda.spread_title", lang), height=max(400, 24 * len(data)), **_LAYOUT)
    return _pct_axis(fig, "x")


def histogram(hist: pd.DataFrame, feature: str, lang: str, normalize: bool) -> go.Figure:
    """Overlaid histogram of one numeric feature for churned and stayed customers.

    Parameters
    ----------
    hist : pandas.DataFrame
        Rows of :func:`churn_core.eda.numeric_histograms` for ``feature``.
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
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
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


def correlation_heatmap(matrix: pd.DataFrame, lang: str) -> go.Figure:
    """Annotated heatmap of a correlation matrix on a diverging scale from -1 to 1."""
    names = [feature_label(c, lang) for c in matrix.columns]
    fig = px.imshow(
        matrix.to_numpy(), x=names, y=names, zmin=-1, zmax=1,
        color_continuous_scale="RdBu_r", text_auto=".2f", aspect="auto",
    )  # fmt: skip
    fig.update_layout(title=t("eda.corr_title", lang), height=700, **_LAYOUT)
    return fig
