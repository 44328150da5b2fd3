"""Scoring: one customer with what-if and explanations, a CSV in batch, at-risk seniors."""

import streamlit as st

from churn_core import charts
from churn_core.data.loading import TENURE_MAX_MONTHS
from churn_core.escaping import markdown_text
from churn_core.i18n import feature_label, fmt_int, fmt_pct, fmt_usd, value_label
from churn_core.prediction.scoring import (
    WHAT_IF_DERIVED,
    WHAT_IF_FEATURES,
    WHAT_IF_MAX_MONTHLY_USD,
    codes,
    score_one,
    what_if_options,
    what_if_totals,
)
from ui import (
    at_risk_senior_scores,
    customer_count,
    customer_sample,
    economics_sidebar,
    explainer,
    lang,
    model_bundle,
    page_setup,
    page_tabs,
    query_customers,
    relabel,
    tr,
)
from ui.model_card import show_serving_model
from ui.tables import derived_note, show_scores
from ui.uploads import UPLOAD_TYPES, batch_scoring
from ui.widgets import upload_help

page_setup("nav.scoring", ":material/person_search:")
lg = lang()
st.title(tr("score.title"))
st.info(tr("app.data_note"), icon=":material/info:")
model = model_bundle().model  # the registry's champion
show_serving_model()  # its version: after a promotion, the next rerun scores with the new champion
economics = economics_sidebar()

NAMES = ("single", "batch", "seniors")
tab = page_tabs("score", NAMES, "score_tab")

if tab["single"].open:
    with tab["single"]:
        ids = customer_sample(columns=("customer_id",))["customer_id"]
        cid = st.selectbox(tr("score.customer"), ids, key="score_customer")
        base = query_customers(ids=(cid,)).iloc[0]
        st.caption(tr("score.what_if"))
        cols = st.columns(3)
        customer = base.copy()
        for i, feature in enumerate(f for f in WHAT_IF_FEATURES if f in model.features):  # classic: no offer
            options = what_if_options(feature)
            customer[feature] = cols[i % 3].selectbox(
                feature_label(feature, lg), options, index=list(options).index(base[feature]),
                format_func=lambda v: value_label(v, lg), key=relabel(f"wi_{feature}_{cid}"),
            )  # fmt: skip
        customer["tenure"] = cols[0].slider(
            feature_label("tenure", lg), 0, TENURE_MAX_MONTHS, int(base["tenure"]), key=f"wi_tenure_{cid}"
        )
        customer["monthly_charges"] = cols[1].number_input(
            feature_label("monthly_charges", lg),
            0.0,
            WHAT_IF_MAX_MONTHLY_USD,
            float(base["monthly_charges"]),
            1.0,
            key=f"wi_mc_{cid}",
        )
        customer = what_if_totals(base, customer)  # totals follow tenure and monthly charges
        derived_note(customer, WHAT_IF_DERIVED)
        scored, contributions = score_one(model, customer, explainer(), economics)
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(tr("score.probability"), fmt_pct(scored["churn_probability"]))
        c2.metric(tr("score.risk_score"), f"{scored['risk_score']} / 100")
        c3.metric(tr("score.tier"), tr(f"tier.{scored['risk_tier']}"))
        c4.metric(tr("score.expected_profit"), fmt_usd(scored["expected_profit_usd"]))
        left, right = st.columns([3, 2])
        left.plotly_chart(charts.drivers_figure(contributions, customer, lg), width="stretch")
        up = codes(scored["drivers_up"])
        right.markdown(f"**{tr('score.drivers_up')}**")
        drivers = [f"- {markdown_text(feature_label(f, lg))}: {markdown_text(value_label(customer[f], lg))}"
                   for f in up]  # fmt: skip
        right.markdown("\n".join(drivers) or "–")
        right.markdown(f"**{tr('score.actions')}**")
        actions = codes(scored["actions"])
        right.markdown("\n".join(f"- {tr(f'action.{a}')}" for a in actions) or tr("score.no_actions"))

if tab["batch"].open:
    with tab["batch"]:
        st.markdown(tr("score.batch_help"))
        upload = st.file_uploader(tr("score.upload"), type=UPLOAD_TYPES, key="score_upload", help=upload_help())
        if upload is not None:  # read, columns matched, rows checked once per file; scored once per economics
            batch_scoring(upload, economics)  # detected format, column mapping, rejected rows, scores

if tab["seniors"].open:
    with tab["seniors"]:
        at_risk = at_risk_senior_scores(economics)
        st.markdown(tr("score.seniors_text", n=fmt_int(len(at_risk)), total=fmt_int(customer_count(seniors_only=True))))
        show_scores(at_risk, tr("score.download_seniors"), "at_risk_seniors.csv")
