"""Home page and entry point: what the app is for, headline KPIs, links to every page.

Run with ``streamlit run Home.py``. Pages live in ``pages/`` and call into ``churn_core``.
"""

import streamlit as st

from churn_core.analytics import eda
from churn_core.formatting import to_kst
from churn_core.i18n import fmt_int, fmt_pct, fmt_usd
from churn_core.logs import setup_logging
from ui import PAGES, lang, page_setup, query, tr, warehouse
from ui.health import home_alert
from ui.widgets import requires_columns, schema_note

setup_logging("app")  # once per process (later runs: no-op): JSON lines to stderr and data/logs/app.log
page_setup("nav.home", ":material/home:")

st.title(tr("app.title"))
st.info(tr("app.data_note"), icon=":material/info:")
schema_note()
home_alert()  # model health: a breach for the latest snapshot (issue #14)
st.markdown(tr("home.intro"))

everyone = eda.EdaFilters()
k = query("kpis", everyone)

st.subheader(tr("home.kpis"))
c1, c2, c3, c4 = st.columns(4)
c1.metric(tr("home.customers"), fmt_int(k["customers"]))
c2.metric(
    tr("home.churn_rate"),
    fmt_pct(k["churn_rate"]),
    help=tr("home.churn_rate_help", churned=fmt_int(k["churned"]), customers=fmt_int(k["customers"])),
)
c3.metric(
    tr("home.senior_churn"),
    fmt_pct(k["senior_churn_rate"]),
    delta=tr("home.senior_delta", delta=f"{k['senior_gap_pp']:.1f}"),
    delta_color="inverse",
    help=tr("home.group_help", n=fmt_int(k["senior_customers"])),
)
c4.metric(
    tr("home.mrr_lost"),
    fmt_usd(k["mrr_lost_usd"]),
    help=tr("home.mrr_lost_help", mrr=fmt_usd(k["mrr_usd"]), share=fmt_pct(k["mrr_lost_share"])),
)
st.caption(
    f"{tr('home.other_churn')}: {fmt_pct(k['other_churn_rate'])} "
    f"({tr('home.group_help', n=fmt_int(k['other_customers']))})"
)

if requires_columns("age_group"):  # a classic Kaggle file has no Age
    from churn_core import charts  # Plotly Express only when a chart is drawn (cold start, issue #17)

    by_age = query("churn_by_category", everyone, features=("age_group",))
    st.plotly_chart(charts.churn_rate_bars(by_age, "age_group", lang()), width="stretch")

st.subheader(tr("home.pages"))
for path, key, icon in PAGES[1:]:
    st.page_link(path, label=tr(key), icon=icon)
    st.caption(tr(f"home.page_{key.split('.')[1]}"))

meta = warehouse().meta()
st.caption(
    tr(
        "app.warehouse_caption",
        backend=tr(f"app.backend_{warehouse().backend}"),
        file=meta["raw_file"],
        n=fmt_int(int(meta["n_customers"])),
        built=to_kst([meta["built_at"]]).iloc[0] or meta["built_at"],  # stored in UTC, shown in KST
    )
)
