"""Issue #17: page analytics stored by the build equal what the pages computed, and are never stale.

On the real IBM file: the stored survival curves, CLV, evaluation, Kaplan–Meier curves, segment
choices, senior segments, factor loadings, PCA map and segment traits are identical to the fits
the revenue and segments pages ran before (bit for bit; the CLV under other assumptions and the
offer simulator's curves within 1e-9). A result of another build, another sample size or another
snapshot's customers table is never returned.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churn_core.analytics import clv as cl
from churn_core.analytics import precomputed as pc
from churn_core.analytics import segments as sg
from churn_core.analytics import survival
from churn_core.config import RAW_CUSTOMERS_CSV, get_settings
from churn_core.data.customers import customer_sample
from churn_core.data.loading import file_sha256
from churn_core.data.warehouse import DuckDBWarehouse, SnapshotView
from churn_core.prediction.features import feature_frame
from churn_core.prediction.training import MODEL_FILE, bundle_dir, load_schema_bundle
from churn_core.studio import STUDIO_ENRICH

ROWS = 20_000  # the default model sample: every customer of the IBM file


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> DuckDBWarehouse:
    """The real file built into a fresh DuckDB warehouse, with the precompute step run as a build runs it."""
    wh = DuckDBWarehouse(tmp_path_factory.mktemp("pc") / "w.duckdb", RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    wh.after_build = (pc.precompute,)
    wh.build()
    wh.ensure_tables()
    return wh


@pytest.fixture(scope="module")
def sample(built) -> pd.DataFrame:
    return customer_sample(built, ROWS)


def test_survival_clv_and_evaluation_are_what_the_page_fitted(built, sample) -> None:
    model, clv, ev = cl.fit_on_sample(built, ROWS)  # what the revenue page ran
    stored, stored_clv, stored_ev = pc.stored_survival(built, ROWS)
    pd.testing.assert_frame_equal(stored_clv, clv, check_exact=True)
    assert {k: v for k, v in stored_ev.items() if k != "ph_violations"} == {
        k: v for k, v in ev.items() if k != "ph_violations"
    }
    pd.testing.assert_frame_equal(stored_ev["ph_violations"], ev["ph_violations"], check_exact=True)
    np.testing.assert_array_equal(stored.conditional_survival(sample, 60), model.conditional_survival(sample, 60))
    other = cl.CLVAssumptions(margin_rate=0.55, annual_discount=0.2, horizon_months=36)
    subset = sample.sample(700, random_state=3)  # the offer simulator's audiences are subsets of the sample
    live, kept = cl.customer_clv(model, subset, other), cl.customer_clv(stored, subset, other)
    pd.testing.assert_frame_equal(kept, live, check_exact=False, rtol=0, atol=1e-9)
    assert len(sample) == 7043


@pytest.mark.parametrize("group", survival.KM_GROUPS)
def test_kaplan_meier_curves_are_what_the_page_fitted(built, sample, group) -> None:
    curves, p = survival.kaplan_meier(sample, group)
    stored_curves, stored_p = pc.stored_kaplan_meier(built, ROWS, group)
    pd.testing.assert_frame_equal(stored_curves, curves, check_exact=True)
    assert stored_p == p


def test_segments_factors_map_and_traits_are_what_the_page_fitted(built, sample) -> None:
    everyone, seniors_seg = sg.fit_segmenters(sample)
    stored_everyone, stored_seniors = pc.stored_segmenters(built, ROWS)
    pd.testing.assert_frame_equal(stored_everyone.scores_, everyone.scores_, check_exact=True)
    pd.testing.assert_frame_equal(stored_seniors.scores_, seniors_seg.scores_, check_exact=True)
    assert (stored_everyone.k_, stored_seniors.k_) == (everyone.k_, seniors_seg.k_)
    seniors = sample[sample["is_senior"]]
    np.testing.assert_array_equal(stored_seniors.predict(seniors), seniors_seg.predict(seniors))
    with pytest.raises(KeyError, match="no stored segment"):
        stored_seniors.predict(sample[~sample["is_senior"]].head(2))
    loadings = sg.factor_loadings(sample)
    pd.testing.assert_frame_equal(pc.stored_result(built, ROWS, pc.FACTORS), loadings, check_exact=True)
    projection = sg.projection_sample(sample, sample["segment"])
    pd.testing.assert_frame_equal(pc.stored_result(built, ROWS, pc.PROJECTION), projection, check_exact=True)
    assert pc.stored_result(built, ROWS, pc.TRAITS) == sg.segment_traits(sample, sample["segment"])


def test_sample_probabilities_are_the_shipped_models_and_keyed_to_it(built, sample) -> None:
    models_dir = get_settings().models_dir
    path = bundle_dir(models_dir, "extended") / MODEL_FILE
    model = load_schema_bundle("extended", models_dir).model
    stored = pc.stored_probabilities(built, ROWS, file_sha256(path))
    live = model.predict_proba(feature_frame(sample, model.features))[:, 1]
    assert stored["customer_id"].tolist() == sample["customer_id"].tolist()
    np.testing.assert_allclose(stored["churn_probability"], live, rtol=0, atol=1e-12)
    assert pc.stored_probabilities(built, ROWS, "0" * 64) is None  # another model: not used


def test_results_of_another_build_sample_or_snapshot_are_never_returned(built) -> None:
    assert pc.stored_result(built, ROWS - 1, pc.FACTORS) is None  # another sample size
    snapshot = "customers_20190101"
    built.replace_table(snapshot, built.query("SELECT * FROM {customers}"))
    view = SnapshotView(built, dt.date(2019, 1, 1), snapshot)  # what wh.at(an older date) returns
    readers = (
        lambda wh: pc.stored_survival(wh, ROWS),
        lambda wh: pc.stored_segmenters(wh, ROWS),
        lambda wh: pc.stored_kaplan_meier(wh, ROWS, "contract"),
        lambda wh: pc.stored_result(wh, ROWS, pc.FACTORS),
    )
    assert all(read(built) is not None for read in readers)
    assert all(read(view) is None for read in readers)
    built_at = built.meta()["built_at"]
    built.execute("UPDATE {_meta} SET value = '2000-01-01T00:00:00+00:00' WHERE key = 'built_at'")
    try:
        assert all(read(built) is None for read in readers)  # a rebuild whose step did not run
    finally:
        built.execute("UPDATE {_meta} SET value = @v WHERE key = 'built_at'", {"v": built_at})
