"""Scoring: one customer with what-if and explanations, a CSV in batch, at-risk seniors."""

import streamlit as st

from churn_core import charts
from churn_core.config import get_settings
from churn_core.data.loading import TENURE_MAX_MONTHS, DataValidationError
from churn_core.data.uploads import UploadLimitError
from churn_core.escaping import markdown_text
from churn_core.i18n import feature_label, fmt_int, fmt_pct, fmt_usd, value_label
from churn_core.prediction.scoring import WHAT_IF_FEATURES, WHAT_IF_MAX_MONTHLY_USD, codes, score_one, what_if_options
from ui import (
    at_risk_senior_scores,
    customer_count,
    customer_sample,
    download_button,
    economics_sidebar,
    explainer,
    lang,
    model_bundle,
    page_setup,
    page_tabs,
    query_customers,
    tr,
)
from ui.data import scored_upload
from ui.widgets import upload_help, upload_limit_text

page_setup("nav.scoring", ":material/person_search:")
lg = lang()
st.title(tr("score.title"))
st.info(tr("app.data_note"), icon=":material/info:")
model = model_bundle().model
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
        for i, feature in enumerate(WHAT_IF_FEATURES):
            options = what_if_options(feature)
            customer[feature] = cols[i % 3].selectbox(
                feature_label(feature, lg), options, index=list(options).index(base[feature]),
                format_func=lambda v: value_label(v, lg), key=f"wi_{feature}_{cid}",
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
        upload = st.file_uploader(tr("score.upload"), type=["csv"], key="score_upload", help=upload_help())
        if upload is not None:
            try:  # validated once per file (SHA-256), scored once per economics: reruns reuse the result
                result = scored_upload(upload.name, upload.getvalue(), economics)
            except UploadLimitError as exc:
                st.error(upload_limit_text(exc))
            except DataValidationError as exc:
                st.error(tr("score.invalid"))
                st.dataframe(exc.problems, hide_index=True)
            else:
                st.success(tr("score.done", n=fmt_int(len(result))))
                st.dataframe(result.head(get_settings().max_table_rows), hide_index=True)
                download_button(tr("score.download"), result, "churn_scores.csv")

if tab["seniors"].open:
    with tab["seniors"]:
        at_risk = at_risk_senior_scores(economics)
        st.markdown(tr("score.seniors_text", n=fmt_int(len(at_risk)), total=fmt_int(customer_count(seniors_only=True))))
        at_risk = at_risk.assign(risk_tier=[tr(f"tier.{v}") for v in at_risk["risk_tier"]])
        st.dataframe(
            at_risk,
            hide_index=True,
            column_config={"churn_probability": st.column_config.NumberColumn(format="percent")},
        )
        download_button(tr("score.download_seniors"), at_risk, "at_risk_seniors.csv")
