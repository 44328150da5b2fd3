"""Outreach: staff send SMS and e-mail notices to at-risk seniors (signed-in staff only)."""

import datetime as dt

import streamlit as st

from churn_core.auth import can
from churn_core.config import get_settings
from churn_core.data.loading import SENIOR_AGE_GROUPS
from churn_core.escaping import markdown_text
from churn_core.outreach import campaigns as outreach
from churn_core.outreach import compliance, consent, contacts
from churn_core.prediction.business import AT_RISK_TIERS
from ui import (
    at_risk_senior_scores,
    contact_book,
    download_button,
    page_setup,
    places,
    relabel,
    segment_ids,
    staff_role,
    tr,
    warehouse,
)  # fmt: skip
from ui.auth import role_name, role_names
from ui.campaign_results import campaign_results
from ui.data import audience_customers, present
from ui.outreach import contact_import, send_step
from ui.tables import show_ledger
from ui.uplift import audience_ranking as uplift_ranking
from ui.widgets import template_label

page_setup("nav.outreach", ":material/campaign:")
st.title(tr("out.title"))
role = staff_role()
if role is None:
    st.stop()
if not can(role, "send"):
    st.warning(tr("out.no_permission", role=role_name(role), staff=role_names("send")), icon=":material/block:")
    st.stop()

settings, wh = get_settings(), warehouse()
book = contact_book()
if book["is_demo"].any():
    st.warning(tr("out.demo_contacts"), icon=":material/science:")
with st.expander(tr("out.import")):
    contact_import(wh)  # a merge: preview what it changes, then confirm
with st.expander(tr("out.reconfirm")):
    st.dataframe(due := consent.reconfirmation_due(wh), hide_index=True)
    st.caption(tr("out.reconfirm_note", n=len(due), **consent.reconfirmation_terms()))
    download_button(tr("out.reconfirm_download"), due, "consent_reconfirmation_due.csv", key="o_reconfirm_dl")

st.header(tr("out.audience"))
c1, c2, c3 = st.columns(3)
channel = c1.selectbox(tr("out.channel"), contacts.CAMPAIGN_CHANNELS, format_func=lambda c: tr(f"out.channel_{c}"),
                       key=relabel("o_ch"))  # fmt: skip
tiers = c2.multiselect(tr("out.tiers"), AT_RISK_TIERS[::-1], default=AT_RISK_TIERS[::-1],
                       format_func=lambda t: tr(f"tier.{t}"), key=relabel("o_tiers"))  # fmt: skip
ages = (  # a classic Kaggle file has no Age, so no age groups to choose
    c3.multiselect(tr("out.ages"), SENIOR_AGE_GROUPS, key="o_ages", placeholder=tr("filters.all"))
    if present(("age_group",))
    else ()
)
gus = c1.multiselect(tr("map.gu_filter"), sorted(book["gu"].dropna().unique()), key="o_gus",
                     placeholder=tr("filters.all"))  # fmt: skip
segments = c2.multiselect(tr("filters.segment"), segment_ids(), key="o_segments", placeholder=tr("filters.all"))
consented = c3.checkbox(tr("out.consented_only"), value=True, key="o_consent")
customers = audience_customers()
audience = outreach.build_audience(at_risk_senior_scores(), customers, book, channel, tuple(tiers), tuple(ages),
                                   tuple(gus), tuple(segments), consented)  # fmt: skip
audience = uplift_ranking(wh, audience)  # churn risk | expected incremental profit, both outlooks (ui.uplift)
st.metric(tr("out.audience_size"), f"{len(audience):,}")
if audience.empty:
    st.info(tr("out.audience_empty"), icon=":material/group_off:")
    st.stop()

st.header(tr("out.template"))
sender = outreach.sender_from_settings(settings)
templates = compliance.load_templates(settings.templates_dir)
AUTO = compliance.AUTO_TEMPLATE  # the template follows each recipient's risk tier
choices = [AUTO, *(t for t in templates if templates[t].channel == channel)]
choice = st.selectbox(tr("out.template_base"), choices, key=relabel(f"o_tpl_{channel}"),
                      format_func=lambda t: tr("out.template_auto") if t == AUTO else template_label(t))  # fmt: skip
base = edited = None
shown = audience.head(200).set_index("customer_id")  # preview any of the riskiest 200 recipients
label = lambda c: f"{shown.loc[c, 'name']} ({c})"  # noqa: E731
if choice == AUTO:
    by_tier = compliance.risk_templates(templates, channel)
    problems = [p for tpl in by_tier.values() for p in compliance.template_problems(tpl, sender)]
else:
    base = templates[choice]
    subject = st.text_input(tr("out.subject"), base.subject, key=f"o_subj_{choice}") if channel == "email" else ""
    body = st.text_area(tr("out.body"), base.body, height=200, key=f"o_body_{choice}")
    template = edited = compliance.Template(base.template_id, channel, body, subject)
    problems = compliance.template_problems(template, sender)
for problem in problems:
    st.error(tr("out.template_problem", problem=problem), icon=":material/gavel:")
values = outreach.personal_values(book, places())
who = st.selectbox(tr("out.preview_for"), shown.index, format_func=label, key="o_who")
if choice == AUTO:
    template = compliance.recipient_template(by_tier, shown.loc[who, "risk_tier"])
    st.caption(tr("out.template_auto_note", id=template_label(template.template_id)))
preview = compliance.render(template, sender, {"name": shown.loc[who, "name"], **values.get(who, {})})
st.caption(tr("out.preview", name=markdown_text(shown.loc[who, "name"])))
st.code((preview["subject"] + "\n\n" if preview["subject"] else "") + preview["body"], language=None, wrap_lines=True)

st.header(tr("out.campaign"))
channel_impl = outreach.channel_from_settings(channel, settings)
if not channel_impl.real:
    st.warning(tr("out.outbox_only"), icon=":material/outbox:")
today = dt.datetime.now(compliance.KST).strftime("%Y%m%d")
campaign_id = st.text_input(tr("out.campaign_id"), f"{today}-{channel}", key=f"o_cid_{channel}")
control = st.slider(tr("out.control_share"), 0.0, 0.5, settings.control_share, 0.05, key="o_control")
if st.button(tr("out.plan"), disabled=bool(problems), key="o_plan"):
    tpl_id = compliance.template_id_for_plan(choice, base, edited, settings.templates_dir)
    now = dt.datetime.now(dt.UTC)
    result = outreach.plan(wh, campaign_id, audience, channel, control, st.session_state["staff_user"], now, tpl_id,
                           templates=compliance.load_templates(settings.templates_dir))  # fmt: skip
    st.success(tr("out.planned", **result))
# what goes now and what is held, Send, then the campaign's totals over every run (ui.outreach)
send_step(wh, campaign_id, channel_impl, sender, values, templates, bool(problems), settings.send_rate_per_s)

st.header(tr("out.ledger"))
led = outreach.ledger(wh)
campaigns = sorted(led["campaign_id"].unique()) if len(led) else []
chosen = st.multiselect(tr("out.ledger_campaigns"), campaigns, key="o_led_c", placeholder=tr("filters.all"))
statuses = st.multiselect(tr("out.ledger_status"), list(outreach.STATUSES), key=relabel("o_led_s"),
                          format_func=lambda s: tr(f"status.{s}"), placeholder=tr("filters.all"))  # fmt: skip
view = led[led["campaign_id"].isin(chosen or campaigns) & led["status"].isin(statuses or outreach.STATUSES)]
show_ledger(view, tr("out.ledger_download"), "outbox_ledger.csv", key="o_led_dl")  # statuses translated, KST
campaign_results(wh, chosen)  # treated vs control with CIs, costs, net effect, CSV (ui.campaign_results)
