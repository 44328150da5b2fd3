"""Segments: k-means clusters (k by silhouette), senior clusters, factor analysis, PCA map."""

import streamlit as st

from churn_core import charts
from churn_core.analytics import clv as cl
from churn_core.analytics import eda
from churn_core.analytics import segments as sg
from churn_core.i18n import feature_label, fmt_int
from ui import (
    download_button,
    factor_loadings,
    lang,
    page_setup,
    page_tabs,
    query,
    sample_page_intro,
    segmenters,
    survival_results,
    tr,
)

page_setup("nav.segments", ":material/hub:")
lg = lang()
customers = sample_page_intro("seg.title")
everyone, seniors_seg = segmenters()
_, clv, _ = survival_results()

NAMES = ("clusters", "seniors", "factors", "map")
tab = page_tabs("seg", NAMES, "seg_tab")
labels = {
    "segment": tr("seg.segment"), "customers": tr("eda.n"), "churn_rate": tr("home.churn_rate"),
    "clv_usd": tr("clv.our_clv"), "senior_share": tr("seg.senior_share"),
} | {f: feature_label(f, lg) for f in ("monthly_charges", "total_revenue", "age", "n_services", "tenure")}  # fmt: skip
config = labels | {
    k: st.column_config.NumberColumn(labels[k], format="percent") for k in ("churn_rate", "senior_share")
}

if tab["clusters"].open:
    with tab["clusters"]:
        scores = everyone.scores_
        st.markdown(tr("seg.k_text", k=everyone.k_, sil=f"{scores['silhouette'].max():.3f}"))
        c1, c2 = st.columns(2)
        silhouette, elbow = charts.k_selection_figures(scores, lg)
        c1.plotly_chart(silhouette, width="stretch")
        c2.plotly_chart(elbow, width="stretch")
        # counts and means in the warehouse (every customer); mean CLV from the fitted sample
        prof = query("segment_profile", eda.EdaFilters()).merge(
            sg.segment_clv_means(clv, customers), on="segment", how="left"
        )
        st.dataframe(prof.round(2), hide_index=True, column_config=config)
        st.caption(tr("seg.filter_hint"))
        members = customers[["customer_id", "segment"]]
        download_button(tr("seg.download"), members, "segments.csv")

if tab["seniors"].open:
    with tab["seniors"]:
        seniors = customers[customers["is_senior"]]
        st.markdown(tr("seg.senior_text", k=seniors_seg.k_, n=fmt_int(len(seniors))))
        prof = sg.profile(seniors, seniors_seg.predict(seniors), cl.clv_by_customer(clv, seniors))
        st.dataframe(prof.round(2), hide_index=True, column_config=config)

if tab["factors"].open:
    with tab["factors"]:
        loadings = factor_loadings()
        st.plotly_chart(charts.loadings_heatmap(loadings, lg), width="stretch")
        for factor, top in sg.factor_labels(loadings).items():
            st.markdown(f"- **{factor}**: " + ", ".join(feature_label(v, lg) for v in top))
        st.caption(tr("seg.factor_caption"))

if tab["map"].open:
    with tab["map"]:
        color = st.radio(
            tr("seg.color_by"), ("segment", "churned"), format_func=lambda c: tr(f"seg.by_{c}"), horizontal=True
        )
        proj = sg.projection_sample(customers, customers["segment"])
        st.plotly_chart(charts.projection_figure(proj, color, lg), width="stretch")
