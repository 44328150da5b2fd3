"""Segments: k-means clusters (k by silhouette), senior clusters, factor analysis, PCA map."""

import streamlit as st

from churn_core import charts
from churn_core.analytics import clv as cl
from churn_core.analytics import eda
from churn_core.analytics import segments as sg
from churn_core.formatting import fmt_number, segment_name
from churn_core.i18n import feature_label, fmt_int
from ui import (
    download_button,
    factor_loadings,
    lang,
    page_setup,
    page_tabs,
    query,
    relabel,
    sample_page_intro,
    segmenters,
    survival_results,
    tr,
)
from ui.data import segment_projection, segment_traits

page_setup("nav.segments", ":material/hub:")
lg = lang()
customers = sample_page_intro("seg.title")
everyone, seniors_seg = segmenters()
_, clv, _ = survival_results()

traits = segment_traits()  # descriptive names from the profiles (cached per data version)
names = {s: segment_name(s, codes, lg) for s, codes in traits.items()}
NAMES = ("clusters", "seniors", "factors", "map")
tab = page_tabs("seg", NAMES, "seg_tab")
labels = {
    "segment": tr("seg.segment"), "customers": tr("eda.n"), "churn_rate": tr("home.churn_rate"),
    "clv_usd": tr("clv.our_clv"), "senior_share": tr("seg.senior_share"),
} | {f: feature_label(f, lg) for f in ("monthly_charges", "total_revenue", "age", "n_services", "tenure")}  # fmt: skip
formats = {"churn_rate": "percent", "senior_share": "percent", "customers": "localized", "monthly_charges": "dollar",
           "total_revenue": "dollar", "clv_usd": "dollar", "age": "%.1f", "n_services": "%.1f",
           "tenure": "%.1f"}  # fmt: skip
config = labels | {k: st.column_config.NumberColumn(labels[k], format=f) for k, f in formats.items()}  # fmt: skip

if tab["clusters"].open:
    with tab["clusters"]:
        scores = everyone.scores_
        st.markdown(tr("seg.k_text", k=everyone.k_, sil=fmt_number(scores["silhouette"].max(), 3)))
        c1, c2 = st.columns(2)
        silhouette, elbow = charts.k_selection_figures(scores, lg)
        c1.plotly_chart(silhouette, width="stretch")
        c2.plotly_chart(elbow, width="stretch")
        # counts and means in the warehouse (every customer); mean CLV from the fitted sample
        prof = query("segment_profile", eda.EdaFilters()).merge(
            sg.segment_clv_means(clv, customers), on="segment", how="left"
        )
        st.dataframe(prof.assign(segment=prof["segment"].map(names)).round(2), hide_index=True, column_config=config)
        st.caption(tr("seg.names_caption"))
        st.caption(tr("seg.filter_hint"))
        members = customers[["customer_id", "segment"]]
        download_button(tr("seg.download"), members, "segments.csv")

if tab["seniors"].open:
    with tab["seniors"]:
        seniors = customers[customers["is_senior"]]
        st.markdown(tr("seg.senior_text", k=seniors_seg.k_, n=fmt_int(len(seniors))))
        labels = seniors_seg.predict(seniors)
        senior_names = {s: segment_name(s, c, lg, senior=True) for s, c in sg.segment_traits(seniors, labels).items()}
        prof = sg.profile(seniors, labels, cl.clv_by_customer(clv, seniors))
        st.dataframe(
            prof.assign(segment=prof["segment"].map(senior_names)).round(2), hide_index=True, column_config=config
        )
        st.caption(tr("seg.names_caption"))

if tab["factors"].open:
    with tab["factors"]:
        loadings = factor_loadings()
        st.plotly_chart(charts.loadings_heatmap(loadings, lg), width="stretch")
        for factor, top in sg.factor_labels(loadings).items():
            st.markdown(f"- **{factor}**: " + ", ".join(feature_label(v, lg) for v in top))
        st.caption(tr("seg.factor_caption"))

if tab["map"].open:
    with tab["map"]:
        by = {c: tr(f"seg.by_{c}") for c in ("segment", "churned")}  # labels of this run's language
        color = st.radio(tr("seg.color_by"), list(by), format_func=by.get, horizontal=True, key=relabel("seg_color"))
        proj = segment_projection()  # stored by the build (no PCA fit on the page)
        legend = {str(s): name for s, name in names.items()}
        st.plotly_chart(charts.projection_figure(proj, color, lg, legend), width="stretch")
