"""Model health (analysts): data drift per feature, scores over time, realised performance, alerts."""

import streamlit as st

from ui import health as panel
from ui import page_setup, page_tabs, tr

page_setup("nav.health", ":material/monitor_heart:")
st.title(tr("health.title"))
panel.intro()
snapshot = panel.snapshot_choice()
panel.alerts(snapshot)

tab = page_tabs("health", ("drift", "scores", "performance"), "health_tab")
if tab["drift"].open:
    with tab["drift"]:
        panel.drift_tab(snapshot)
if tab["scores"].open:
    with tab["scores"]:
        panel.scores_tab()
if tab["performance"].open:
    with tab["performance"]:
        panel.performance_tab()
