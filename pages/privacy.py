"""Privacy notice of the outreach messages (what, why, how long, withdrawal); linked from every e-mail."""

import streamlit as st

from ui import page_setup, tr

page_setup("nav.privacy", ":material/policy:")
st.title(tr("privacy.title"))
for section in ("collected", "purpose", "retention", "withdraw", "contact"):
    st.subheader(tr(f"privacy.{section}_h"))
    st.markdown(tr(f"privacy.{section}"))
st.caption(tr("privacy.demo_note"))
