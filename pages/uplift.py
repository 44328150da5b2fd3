"""Uplift (analysts): who the retention offer actually keeps, measured by cross-validated Qini curves."""

import streamlit as st

from ui import page_setup, tr
from ui import uplift as panel

page_setup("nav.uplift", ":material/trending_up:")
st.title(tr("uplift.title"))
panel.page()
