"""Revenue & CLV: revenue identity, survival curves, CLV, revenue at risk, campaign simulator."""

import streamlit as st

from churn_core import charts
from churn_core.analytics import clv as cl
from churn_core.analytics import offer_simulation as sim
from churn_core.analytics import survival
from churn_core.formatting import fmt_number, number_table, ph_test_table, segment_name
from churn_core.i18n import feature_label, fmt_int, fmt_pct, fmt_usd
from ui import (
    at_risk_senior_scores,
    download_button,
    lang,
    page_setup,
    page_tabs,
    relabel,
    sample_page_intro,
    survival_results,
    tr,
)
from ui.data import kaplan_meier, present, segment_traits
from ui.widgets import percent_slider, requires_columns

page_setup("nav.revenue", ":material/savings:")
lg = lang()
customers = sample_page_intro("clv.title")
model, clv, ev = survival_results()

ASSUMED, OFFER = cl.CLVAssumptions(), sim.Campaign()  # the library's defaults start the sliders
NAMES = ("survival", "clv", "risk", "campaign")
tab = page_tabs("clv", NAMES, "clv_tab")

if tab["survival"].open:
    with tab["survival"]:
        if requires_columns(*cl.IDENTITY_COLUMNS):  # a classic Kaggle file has no revenue columns
            st.warning(tr("clv.identity", n=cl.identity_breaks(customers)), icon=":material/function:")
        group = st.selectbox(
            tr("clv.group"), present(survival.KM_GROUPS), format_func=lambda f: feature_label(f, lg),
            key=relabel("clv_group"),
        )  # fmt: skip
        curves, p = kaplan_meier(group)  # stored by the build (no fit on the page)
        st.plotly_chart(charts.km_figure(curves, group, p, lg), width="stretch")
        c1, c2 = st.columns(2)
        c1.metric(tr("clv.c_index_cox"), f"{ev['cox_c_index']:.3f}")
        c2.metric(tr("clv.c_index_weibull"), f"{ev['weibull_c_index']:.3f}")
        st.caption(tr("clv.c_index_caption", n_train=fmt_int(ev["n_train"]), n_test=fmt_int(ev["n_test"])))
        st.markdown(tr("clv.ph_text"))
        st.dataframe(ph_test_table(ev["ph_violations"], lg), hide_index=True)

if tab["clv"].open:
    with tab["clv"]:
        st.markdown(tr("clv.formula"))
        a1, a2 = st.columns(2)
        margin = percent_slider(a1, tr("clv.margin"), ASSUMED.margin_rate, 100, "clv_margin", min_percent=5)
        rate = percent_slider(a2, tr("clv.discount_rate"), ASSUMED.annual_discount, 30, "clv_rate")
        clv = cl.customer_clv(model, customers, cl.CLVAssumptions(margin_rate=margin, annual_discount=rate))
        c1, c2 = st.columns(2)
        c1.metric(tr("clv.median_clv"), fmt_usd(clv["clv_usd"].median()))
        c2.metric(tr("clv.median_months"), fmt_number(clv["expected_months"].median(), 1))
        st.plotly_chart(charts.clv_histogram(clv, lg), width="stretch")
        if requires_columns("cltv"):  # IBM's CLTV is in the extended file only
            corr = cl.clv_cltv_correlation(clv, customers)
            st.plotly_chart(
                charts.clv_scatter(cl.clv_by_customer(clv, customers), customers["cltv"], corr, lg), width="stretch"
            )
            st.caption(tr("clv.compare_caption"))
        download_button(tr("clv.download"), clv, "clv.csv")

if tab["risk"].open:
    with tab["risk"]:
        by = st.selectbox(
            tr("clv.group"), present(cl.RISK_GROUPS), format_func=lambda f: feature_label(f, lg),
            key=relabel("clv_risk_group"),
        )  # fmt: skip
        risk = cl.revenue_at_risk_by(clv, customers, by)
        st.plotly_chart(charts.revenue_at_risk_bars(risk, by, lg), width="stretch")
        st.caption(tr("clv.risk_caption", total=fmt_usd(clv["revenue_at_risk_12m_usd"].sum())))

if tab["campaign"].open:
    with tab["campaign"]:
        st.markdown(tr("clv.campaign_intro"))
        c1, c2, c3 = st.columns(3)
        discount = percent_slider(c1, tr("clv.discount"), OFFER.discount, 30, "cp_discount")
        uptake = percent_slider(c2, tr("clv.uptake"), OFFER.uptake, 100, "cp_uptake")
        reduction = percent_slider(c3, tr("clv.churn_reduction"), OFFER.churn_reduction, 30, "cp_reduction")

        options = sim.audience_options(customers)  # labels of this run's language
        traits = segment_traits()  # the segments page's descriptive names (cached per data version)
        labels = {a: segment_name(a, traits.get(a, ()), lg) if isinstance(a, int) else tr(f"clv.audience_{a}")
                  for a in options}  # fmt: skip
        audience = st.selectbox(tr("clv.audience"), options, format_func=labels.get, key=relabel("cp_audience"))
        ids = at_risk_senior_scores()["customer_id"] if audience == "at_risk_seniors" else ()
        chosen = sim.audience(customers, audience, ids)
        offer = sim.evaluate_offer(
            model, chosen, sim.Campaign(discount=discount, uptake=uptake, churn_reduction=reduction)
        )
        st.markdown(tr("clv.target", n=fmt_int(len(chosen))))
        names = {c: tr(f"clv.col_{c}") for c in offer.result.columns}
        shown = number_table(offer.result, {"customers_without": 1, "customers_with": 1})
        st.dataframe(shown, hide_index=True, column_config=names)
        st.markdown(tr("clv.break_even", r="–" if offer.break_even is None else fmt_pct(offer.break_even)))
        st.plotly_chart(charts.sensitivity_figure(offer.sensitivity, lg), width="stretch")
