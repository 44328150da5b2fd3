"""Segments: k-means clusters (k by silhouette), senior clusters, factor analysis, PCA map."""

import plotly.express as px
import streamlit as st

from churn_core import charts, eda
from churn_core import segments as sg
from churn_core.i18n import feature_label, fmt_int
from ui import (
    customer_sample,
    download_csv,
    factor_loadings,
    lang,
    page_setup,
    query,
    sample_note,
    segmenters,
    survival_results,
    tr,
)

page_setup("nav.segments", ":material/hub:")
lg = lang()
st.title(tr("seg.title"))
st.info(tr("app.data_note"), icon=":material/info:")
customers = customer_sample()
sample_note()
everyone, seniors_seg = segmenters()
_, clv, _ = survival_results()

NAMES = ("clusters", "seniors", "factors", "map")
tab = dict(zip(NAMES, st.tabs([tr(f"seg.tab_{n}") for n in NAMES], key="seg_tab", on_change="rerun"), strict=True))
labels = {
    "segment": tr("seg.segment"), "customers": tr("eda.n"), "churn_rate": tr("home.churn_rate"),
    "monthly_charges": feature_label("monthly_charges", lg), "total_revenue": feature_label("total_revenue", lg),
    "clv_usd": tr("clv.our_clv"), "age": feature_label("age", lg), "n_services": feature_label("n_services", lg),
    "senior_share": tr("seg.senior_share"), "tenure": feature_label("tenure", lg),
}  # fmt: skip
config = labels | {
    k: st.column_config.NumberColumn(labels[k], format="percent") for k in ("churn_rate", "senior_share")
}

if tab["clusters"].open:
    with tab["clusters"]:
        scores = everyone.scores_
        st.markdown(tr("seg.k_text", k=everyone.k_, sil=f"{scores['silhouette'].max():.3f}"))
        c1, c2 = st.columns(2)
        c1.plotly_chart(
            px.line(scores, x="k", y="silhouette", markers=True, title=tr("seg.silhouette")), width="stretch"
        )
        c2.plotly_chart(px.line(scores, x="k", y="inertia", markers=True, title=tr("seg.elbow")), width="stretch")
        # counts and means in the warehouse (every customer); mean CLV from the fitted sample
        clv_means = (
            clv.merge(customers[["customer_id", "segment"]]).groupby("segment", as_index=False)["clv_usd"].mean()
        )
        prof = query("segment_profile", eda.EdaFilters()).merge(clv_means, on="segment", how="left")
        st.dataframe(prof.round(2), hide_index=True, column_config=config)
        st.caption(tr("seg.filter_hint"))
        members = customers[["customer_id", "segment"]]
        st.download_button(tr("seg.download"), download_csv(members), "segments.csv", "text/csv")

if tab["seniors"].open:
    with tab["seniors"]:
        seniors = customers[customers["is_senior"]]
        senior_labels = seniors_seg.predict(seniors)
        st.markdown(tr("seg.senior_text", k=seniors_seg.k_, n=fmt_int(len(seniors))))
        prof = sg.profile(seniors, senior_labels, clv.loc[seniors.index, "clv_usd"])
        st.dataframe(prof.round(2), hide_index=True, column_config=config)

if tab["factors"].open:
    with tab["factors"]:
        loadings = factor_loadings()
        fig = charts.loadings_heatmap(loadings, lg)
        st.plotly_chart(fig, width="stretch")
        for factor, top in sg.factor_labels(loadings).items():
            st.markdown(f"- **{factor}**: " + ", ".join(feature_label(v, lg) for v in top))
        st.caption(tr("seg.factor_caption"))

if tab["map"].open:
    with tab["map"]:
        color = st.radio(
            tr("seg.color_by"), ("segment", "churned"), format_func=lambda c: tr(f"seg.by_{c}"), horizontal=True
        )
        proj = sg.projection(customers, customers["segment"]).sample(3000, random_state=0)
        proj["churned"] = proj["churned"].map({0: tr("eda.stayed"), 1: tr("eda.churned")})
        fig = px.scatter(proj, x="pc1", y="pc2", color=color, opacity=0.5, title=tr("seg.map_title"))
        st.plotly_chart(fig, width="stretch")
