"""AppTest of the Segments page, and of segments as an EDA filter."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from churn_core.analytics.eda import EdaFilters
from tests.helpers.apptest import open_page, open_tab
from tests.helpers.reference import reference_filter

pytestmark = pytest.mark.app


@pytest.fixture
def page() -> AppTest:
    return open_page("pages/segments.py", role="analyst")


def test_cluster_profiles_cover_every_customer(page: AppTest, warehouse_table) -> None:
    open_tab(page, "seg_tab", "seg", "clusters")
    profile = page.dataframe[0].value
    assert profile["customers"].sum() == len(warehouse_table) == 7043
    counts = warehouse_table["segment"].value_counts().sort_index()
    assert list(profile["customers"]) == list(counts)
    assert page.get("download_button")


def test_segment_is_an_eda_filter(warehouse_table) -> None:
    eda = open_page("pages/eda.py")
    eda.multiselect(key="f_segments").set_value([0]).run()
    sub = reference_filter(warehouse_table, EdaFilters(segments=(0,)))
    summary = next(m.value for m in eda.markdown if "선택된 고객" in m.value)
    assert summary.startswith(f"선택된 고객 {len(sub):,}명")
