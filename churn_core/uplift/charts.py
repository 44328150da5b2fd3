"""Plotly figures of the Uplift page: the cross-validated Qini curves of the three rankings.

Takes the curve frame of :class:`churn_core.uplift.evaluation.UpliftEvaluation` and a language code
and returns a :class:`plotly.graph_objects.Figure` with labels from the message catalog; nothing
here queries data or imports Streamlit.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from churn_core.charts import _LAYOUT, _SIDE_LEGEND, CHURN_COLOR, STAY_COLOR
from churn_core.i18n import t

_STYLE = {
    "uplift": {"color": CHURN_COLOR},
    "risk": {"color": STAY_COLOR},
    "random": {"color": "grey", "dash": "dot"},
}


def qini_figure(qini: pd.DataFrame, lang: str, simulated: bool) -> go.Figure:
    """Qini curves: extra customers kept against the share of customers targeted, per ranking.

    Parameters
    ----------
    qini : pandas.DataFrame
        ``share`` (0-1), ``customers`` and one column per ranking (``uplift``, ``risk``, ``random``).
    lang : str
        UI language.
    simulated : bool
        The outcomes were simulated: the title says so.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.Figure()
    for name in ("uplift", "risk", "random"):
        if name in qini:
            fig.add_scatter(
                x=qini["share"], y=qini[name], mode="lines", name=t(f"uplift.ranking_{name}", lang),
                line=_STYLE[name], customdata=qini["customers"],
                hovertemplate=t("uplift.chart_hover", lang) + "<extra></extra>",
            )  # fmt: skip
    title = t("uplift.chart_title", lang) + (t("uplift.simulated_suffix", lang) if simulated else "")
    fig.update_layout(
        title=title, xaxis_title=t("uplift.chart_x", lang), yaxis_title=t("uplift.chart_y", lang),
        legend=_SIDE_LEGEND, **_LAYOUT,
    )  # fmt: skip
    fig.update_xaxes(tickformat=".0%")
    return fig
