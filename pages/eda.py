"""EDA: churn rate by every feature, distributions, tenure, seniors, reasons, correlation."""

import streamlit as st

from churn_core import charts
from churn_core.analytics import eda
from churn_core.config import get_settings
from churn_core.formatting import PERCENT_FORMAT, column_labels, percent_points, ranked_features
from churn_core.i18n import feature_label, fmt_int, fmt_pct, value_label
from ui import download_button, filter_sidebar, lang, page_setup, page_tabs, query, relabel, tr
from ui.data import present
from ui.widgets import requires_columns, schema_note

page_setup("nav.eda", ":material/query_stats:")
lg = lang()
st.title(tr("eda.title"))
schema_note()
filters = filter_sidebar()

k = query("kpis", filters)
if k["customers"] == 0:
    st.warning(tr("eda.empty"), icon=":material/filter_alt_off:")
    st.stop()
st.markdown(tr("eda.selection", n=fmt_int(k["customers"]), k=fmt_int(k["churned"]), rate=fmt_pct(k["churn_rate"])))


def pick(label_key: str, options, key: str, container=st):
    """Selectbox of feature names shown with their translated labels."""
    return container.selectbox(tr(label_key), options, format_func=lambda f: feature_label(f, lg), key=relabel(key))


# Lazy tabs: only the open tab runs its queries and draws its charts.
NAMES = ("features", "distributions", "tenure_age", "seniors", "reasons", "correlation", "table")
tab = page_tabs("eda", NAMES, "eda_tab")

if tab["features"].open:
    with tab["features"]:
        by_cat = query("churn_by_category", filters)
        left, right = st.columns([2, 3])
        spread = eda.feature_spread(by_cat)  # the picker lists features in the chart's order
        left.plotly_chart(charts.spread_bars(spread, lg), width="stretch")
        feature = pick("eda.feature", ranked_features(spread, present(eda.CATEGORICAL_FEATURES)), "eda_feature", right)
        levels = by_cat[by_cat["feature"] == feature]
        right.plotly_chart(charts.churn_rate_bars(levels, feature, lg), width="stretch")
        with st.expander(tr("eda.all_levels")):
            rates = {"churn_rate": tr("home.churn_rate"), "ci_low": tr("col.ci_low"), "ci_high": tr("col.ci_high")}
            st.dataframe(
                percent_points(by_cat, rates).assign(
                    feature=[feature_label(f, lg) for f in by_cat["feature"]],
                    level=[value_label(v, lg) for v in by_cat["level"]],
                ),
                hide_index=True,
                column_config={"feature": tr("eda.feature"), "level": tr("eda.level"),
                               "n": st.column_config.NumberColumn(tr("eda.n"), format="localized"),
                               "churned": st.column_config.NumberColumn(tr("eda.churned"), format="localized")}
                | {c: st.column_config.NumberColumn(name, format=PERCENT_FORMAT) for c, name in rates.items()},
            )  # fmt: skip

if tab["distributions"].open:
    with tab["distributions"]:
        c1, c2 = st.columns([3, 1])
        numeric = pick("eda.numeric", present(eda.NUMERIC_FEATURES), "eda_numeric", c1)
        normalize = c2.toggle(tr("eda.normalize"), value=True, key="eda_normalize")
        hist = query("numeric_histograms", filters, features=(numeric,))
        st.plotly_chart(charts.histogram(hist, numeric, lg, normalize), width="stretch")

if tab["tenure_age"].open:
    with tab["tenure_age"]:
        st.plotly_chart(charts.tenure_curve(query("churn_by_tenure", filters), lg), width="stretch")
        if requires_columns("age_group"):
            by_age = query("churn_by_category", filters, features=("age_group",))
            st.plotly_chart(charts.churn_rate_bars(by_age, "age_group", lg), width="stretch")

if tab["seniors"].open:
    with tab["seniors"]:
        profile, by_feature = query("senior_comparison", filters)
        if len(profile) < 2:
            st.info(tr("eda.no_seniors"))
        else:
            st.subheader(tr("eda.senior_profile"))
            for col, row in zip(st.columns(2), profile.itertuples(), strict=True):
                col.markdown(f"**{tr('eda.seniors' if row.is_senior else 'eda.others')}**")
                col.metric(
                    tr("home.churn_rate"),
                    fmt_pct(row.churn_rate),
                    help=tr("home.group_help", n=fmt_int(row.n)),
                )
                col.metric(tr("eda.avg_monthly"), f"${row.monthly_charges:,.2f}")
                col.metric(tr("eda.avg_tenure"), f"{row.tenure:.1f}")
                col.metric(tr("eda.avg_services"), f"{row.n_services:.1f}")
            compare = pick("eda.senior_feature", present(eda.SENIOR_COMPARISON_FEATURES), "eda_senior_feature")
            st.plotly_chart(charts.senior_bars(by_feature, compare, lg), width="stretch")

if tab["reasons"].open:
    with tab["reasons"]:
        reasons = query("churn_reasons", filters) if requires_columns("churn_category", "churn_reason") else None
        if reasons is None:
            pass
        elif reasons.empty:
            st.info(tr("eda.no_churners"))
        else:
            st.plotly_chart(charts.reasons_bars(reasons, lg), width="stretch")

if tab["correlation"].open:
    with tab["correlation"]:
        st.plotly_chart(charts.correlation_heatmap(query("correlations", filters), lg), width="stretch")

if tab["table"].open:
    with tab["table"]:
        settings = get_settings()
        rows = query("filtered_customers", filters, limit=settings.max_table_rows)
        shown, cap = min(settings.max_table_rows, k["customers"]), settings.max_download_rows
        st.caption(tr("eda.table_caption", shown=fmt_int(shown), n=fmt_int(k["customers"]), max=fmt_int(cap)))
        names = column_labels(rows.columns, lg)  # the table and its download read the same headers
        st.dataframe(rows, hide_index=True, column_config=names)
        download_button(
            tr("eda.download"),
            lambda: query("filtered_customers", filters, limit=cap).rename(columns=names),
            "customers_filtered.csv",
        )
