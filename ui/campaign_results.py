"""Streamlit glue of a campaign's results on the outreach page: treated vs control, costs, download.

The numbers come from :func:`churn_core.outreach.outcomes.campaign_report` (churn rates with
Wilson 95 % intervals, the difference with its interval and p-value, customers kept, costs and
the net revenue effect in USD); this module lays them out in the current language. Simulated
outcomes are labelled simulated on the banner, in the chart title and on every row of the
download; a control group too small to tell is said plainly.
"""

from __future__ import annotations

import math
import re

import streamlit as st

from churn_core.escaping import markdown_text
from churn_core.formatting import fmt_number, fmt_p_value
from churn_core.i18n import fmt_pct, fmt_usd
from churn_core.outreach import outcomes
from ui.navigation import lang, tr
from ui.widgets import download_button


def _usd(x: float) -> str:
    return "–" if x is None or math.isnan(x) else fmt_usd(x)


def _num(x: float) -> str:
    return "–" if x is None or math.isnan(x) else fmt_number(x, 1)


def campaign_results(wh, campaign_ids) -> None:
    """For each campaign: its report (or how to get outcomes), a chart and a CSV download.

    Parameters
    ----------
    wh : churn_core.data.warehouse.Warehouse
    campaign_ids : iterable of str
        Campaigns chosen on the page.
    """
    for cid in campaign_ids:
        st.subheader(tr("cres.header", campaign=markdown_text(cid)))
        try:
            report = outcomes.campaign_report(wh, cid)
        except outcomes.NoOutcomesError:
            st.info(tr("cres.no_outcomes", campaign=markdown_text(cid)), icon=":material/hourglass_empty:")
            if st.button(tr("cres.from_snapshots"), key=f"cres_snap_{cid}"):
                done = outcomes.outcomes_from_snapshots(wh, cid)
                st.success(tr("cres.from_snapshots_done", written=done.written, unmatched=done.unmatched))
            continue
        show_report(report)


def show_report(report: outcomes.CampaignReport) -> None:
    """Metrics, notices, the churn-rate chart and the download of one campaign's report."""
    r, lg = report, lang()
    if r.simulated:
        assumption = markdown_text(r.assumption or "")
        st.warning(tr("cres.simulated_warning", assumption=assumption), icon=":material/science:")
    if r.too_small:
        values = {
            "n_control": r.n_control,
            "n_treated": r.n_treated,
            "min": outcomes.MIN_GROUP_SIZE,
            "mde": fmt_pct(r.detectable_difference),
            "max": fmt_pct(outcomes.MAX_DETECTABLE_DIFFERENCE),
        }
        st.warning(tr(f"cres.too_small_{r.too_small_reason}", **values), icon=":material/group_off:")
    prefix = tr("cres.simulated_prefix", assumption=markdown_text(r.assumption or "")) if r.simulated else ""
    ci = lambda pair, f: tr("cres.ci_caption", low=f(pair[0]), high=f(pair[1]))  # noqa: E731
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric(prefix + tr("cres.metric_treated"), fmt_pct(r.rate_treated))
    c1.caption(tr("cres.group_caption", churned=r.churned_treated, n=r.n_treated) + " · " + ci(r.ci_treated, fmt_pct))
    c2.metric(prefix + tr("cres.metric_control"), fmt_pct(r.rate_control))
    c2.caption(tr("cres.group_caption", churned=r.churned_control, n=r.n_control) + " · " + ci(r.ci_control, fmt_pct))
    c3.metric(prefix + tr("cres.metric_difference"), fmt_pct(r.difference))
    p_text = "–" if math.isnan(r.p_value) else fmt_p_value(r.p_value)
    c3.caption(ci(r.ci_difference, fmt_pct) + " · " + tr("cres.p_caption", p=p_text))
    c4.metric(prefix + tr("cres.metric_kept"), _num(r.kept))
    c4.caption(ci(r.ci_kept, _num))
    c5.metric(prefix + tr("cres.metric_net"), _usd(r.net_revenue_usd))
    c5.caption(ci(r.ci_net_revenue_usd, _usd))
    st.caption(tr("cres.costs", discount=_usd(r.discount_cost_usd), message=_usd(r.message_cost_usd),
                  messages=f"{r.messages:,}", value=_usd(r.value_per_customer_usd)))  # fmt: skip
    from churn_core.prediction.business import Economics

    economics = Economics.from_settings()
    st.caption(tr("cres.formula", months=fmt_number(economics.value_months), offer=_usd(economics.offer_cost_usd)))
    if r.without_outcome:
        st.caption(tr("cres.without_outcome", n=f"{r.without_outcome:,}"))
    st.plotly_chart(outcomes.report_figure(r, lg), width="stretch", key=f"cres_chart_{r.campaign_id}")
    safe = re.sub(r"[^\w.-]", "_", r.campaign_id)  # a file name, whatever the campaign id holds
    name = f"campaign_report_{safe}{'_simulated' if r.simulated else ''}.csv"
    download_button(tr("cres.download"), outcomes.report_table(r, lg), name, permission=None,
                    key=f"cres_dl_{r.campaign_id}")  # fmt: skip
