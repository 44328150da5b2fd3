"""Privacy notice of the outreach messages (what, why, how long, withdrawal); linked from every e-mail.

Its opt-out form: opened with ``?token=…`` (a signed link from a message), a button records the
withdrawal at once (:func:`churn_core.outreach.unsubscribe.opt_out`, source ``privacy_form``);
without a token it says how to opt out.
"""

import streamlit as st

from churn_core.config import get_settings
from churn_core.outreach import unsubscribe
from ui import page_setup, tr, warehouse

page_setup("nav.privacy", ":material/policy:")
st.title(tr("privacy.title"))
for section in ("collected", "purpose", "retention", "withdraw", "contact"):
    st.subheader(tr(f"privacy.{section}_h"))
    st.markdown(tr(f"privacy.{section}"))

settings = get_settings()
st.subheader(tr("optout.form_h"), anchor="opt-out")
token = st.query_params.get("token")
if not token:
    st.info(tr("optout.no_token", phone=settings.opt_out_phone))
else:
    outcome = unsubscribe.check(token, settings)
    if outcome.status == "valid":
        channel = tr(f"optout.channel_{outcome.token.channel}")
        st.markdown(tr("optout.confirm_text", channel=channel))
        if st.button(tr("optout.confirm_button"), key="optout_confirm", type="primary"):
            outcome = unsubscribe.opt_out(warehouse(), token, settings, source="privacy_form")
        if outcome.status == "recorded":
            st.success(tr("optout.done_text", when=outcome.when_kst, channel=channel, phone=settings.opt_out_phone))
    if outcome.status in ("invalid", "unavailable"):
        st.error(tr(f"optout.{outcome.status}_text", phone=settings.opt_out_phone))
st.caption(tr("privacy.demo_note"))
