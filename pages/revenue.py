"""Revenue & CLV: revenue identity, survival curves, CLV, revenue at risk, campaign simulator."""

import numpy as np
import plotly.express as px
import streamlit as st

from churn_core import campaign as cp
from churn_core import charts, survival
from churn_core.i18n import feature_label, fmt_int, fmt_usd, value_label
from ui import at_risk_senior_scores, customer_sample, download_csv, lang, page_setup, sample_note, survival_results, tr

page_setup("nav.revenue", ":material/savings:")
lg = lang()
st.title(tr("clv.title"))
st.info(tr("app.data_note"), icon=":material/info:")
customers = customer_sample()
sample_note()
model, clv, ev = survival_results()

NAMES = ("survival", "clv", "risk", "campaign")
tab = dict(zip(NAMES, st.tabs([tr(f"clv.tab_{n}") for n in NAMES], key="clv_tab", on_change="rerun"), strict=True))

if tab["survival"].open:
    with tab["survival"]:
        identity = survival.revenue_identity(customers)
        breaking = int((identity["residual"].abs() > 1e-6).sum())
        st.warning(tr("clv.identity", n=breaking), icon=":material/function:")
        group = st.selectbox(
            tr("clv.group"), ("contract", "age_group", "internet_service", "offer"),
            format_func=lambda f: feature_label(f, lg), key="clv_group",
        )  # fmt: skip
        curves, p = survival.kaplan_meier(customers, group)
        st.plotly_chart(charts.km_figure(curves, group, p, lg), width="stretch")
        c1, c2 = st.columns(2)
        c1.metric(tr("clv.c_index_cox"), f"{ev['cox_c_index']:.3f}")
        c2.metric(tr("clv.c_index_weibull"), f"{ev['weibull_c_index']:.3f}")
        st.caption(tr("clv.c_index_caption", n_train=fmt_int(ev["n_train"]), n_test=fmt_int(ev["n_test"])))
        st.markdown(tr("clv.ph_text"))
        st.dataframe(ev["ph_violations"].round(4))

if tab["clv"].open:
    with tab["clv"]:
        st.markdown(tr("clv.formula"))
        a1, a2 = st.columns(2)
        margin = a1.slider(tr("clv.margin"), 5, 100, 30, key="clv_margin") / 100
        rate = a2.slider(tr("clv.discount_rate"), 0, 30, 10, key="clv_rate") / 100
        clv = survival.customer_clv(model, customers, survival.CLVAssumptions(margin_rate=margin, annual_discount=rate))
        c1, c2 = st.columns(2)
        c1.metric(tr("clv.median_clv"), fmt_usd(clv["clv_usd"].median()))
        c2.metric(tr("clv.median_months"), f"{clv['expected_months'].median():.1f}")
        hist = px.histogram(clv, x="clv_usd", nbins=60, labels={"clv_usd": tr("clv.our_clv")})
        st.plotly_chart(hist, width="stretch")
        corr = float(np.corrcoef(clv["clv_usd"], customers["cltv"])[0, 1])
        st.plotly_chart(charts.clv_scatter(clv["clv_usd"], customers["cltv"], corr, lg), width="stretch")
        st.caption(tr("clv.compare_caption"))
        st.download_button(tr("clv.download"), download_csv(clv), "clv.csv", "text/csv")

if tab["risk"].open:
    with tab["risk"]:
        by = st.selectbox(
            tr("clv.group"), ("age_group", "contract", "internet_service", "payment_method", "offer"),
            format_func=lambda f: feature_label(f, lg), key="clv_risk_group",
        )  # fmt: skip
        risk = survival.revenue_at_risk_by(clv, customers, by)
        risk["level"] = [value_label(v, lg) for v in risk["level"]]
        fig = px.bar(
            risk, x="level", y="revenue_at_risk_12m_usd", text="customers", labels={"level": feature_label(by, lg)}
        )
        fig.update_layout(title=tr("clv.risk_title"), yaxis_title=tr("clv.risk_axis"))
        st.plotly_chart(fig, width="stretch")
        st.caption(tr("clv.risk_caption", total=fmt_usd(clv["revenue_at_risk_12m_usd"].sum())))

if tab["campaign"].open:
    with tab["campaign"]:
        st.markdown(tr("clv.campaign_intro"))
        c1, c2, c3 = st.columns(3)
        discount = c1.slider(tr("clv.discount"), 0, 30, 10, key="cp_discount") / 100
        uptake = c2.slider(tr("clv.uptake"), 0, 100, 50, key="cp_uptake") / 100
        reduction = c3.slider(tr("clv.churn_reduction"), 0, 30, 10, key="cp_reduction") / 100
        groups = ["at_risk_seniors", "seniors", *sorted(int(v) for v in customers["segment"].unique())]

        def audience_label(a):
            return tr("filters.segment_n", n=a) if isinstance(a, int) else tr(f"clv.audience_{a}")

        audience = st.selectbox(tr("clv.audience"), groups, format_func=audience_label, key="cp_audience")
        ids = at_risk_senior_scores()["customer_id"] if audience == "at_risk_seniors" else ()
        chosen = cp.audience(customers, audience, ids)
        surv = model.conditional_survival(chosen, 24)
        plan = cp.Campaign(discount=discount, uptake=uptake, churn_reduction=reduction)
        result = cp.simulate(chosen["monthly_charges"], surv, plan)
        st.markdown(tr("clv.target", n=fmt_int(len(chosen))))
        names = {c: tr(f"clv.col_{c}") for c in result.columns}
        st.dataframe(result.round(1), hide_index=True, column_config=names)
        even = cp.break_even_reduction(chosen["monthly_charges"], surv, plan)
        st.markdown(tr("clv.break_even", r="–" if even is None else f"{even:.1%}"))
        st.plotly_chart(
            charts.sensitivity_figure(cp.sensitivity(chosen["monthly_charges"], surv, plan), lg), width="stretch"
        )
