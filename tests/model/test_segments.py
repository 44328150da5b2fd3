"""Customer segments: k by silhouette, profiles, the stored segmentation, factors and projection."""

from __future__ import annotations

import pytest

from churn_core.analytics import segments as sg

pytestmark = pytest.mark.model


def test_segments_k_by_silhouette_and_profiles(customers, warehouse_table) -> None:
    seg = sg.Segmenter(k_values=(2, 3, 4)).fit(customers)
    assert seg.k_ == int(seg.scores_.loc[seg.scores_["silhouette"].idxmax(), "k"])
    labels = seg.predict(customers)
    prof = sg.profile(customers, labels)
    assert prof["customers"].sum() == len(customers)
    assert prof["churn_rate"].max() - prof["churn_rate"].min() > 0.2  # segments differ in churn
    # the warehouse stores the same deterministic segmentation (full k range)
    full = sg.Segmenter().fit(customers).predict(customers)
    assert (warehouse_table.set_index("customer_id").loc[customers["customer_id"], "segment"].to_numpy() == full).all()
    loadings = sg.factor_loadings(customers)
    assert loadings.shape == (len(sg.SERVICES), 3)
    assert any("streaming_movies" in names for names in sg.factor_labels(loadings).values())
    proj = sg.projection(customers, labels)
    assert proj.shape == (len(customers), 4)


def test_projection_sample_works_with_fewer_customers_than_the_plot_size(customers) -> None:
    few = customers.head(500)
    proj = sg.projection_sample(few, [0] * len(few), n=3000)
    assert len(proj) == 500
    assert len(sg.projection_sample(customers, [0] * len(customers), n=3000)) == 3000


def test_segment_clv_means_match_by_customer_id(customers) -> None:
    labelled = customers.head(40).assign(segment=[0] * 20 + [1] * 20)
    clv = labelled[["customer_id"]].assign(clv_usd=[1.0] * 20 + [3.0] * 20).iloc[::-1]
    means = sg.segment_clv_means(clv, labelled).set_index("segment")["clv_usd"]
    assert means.to_dict() == {0: 1.0, 1: 3.0}
