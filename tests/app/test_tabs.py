"""Every lazy tab of every page runs without an exception and draws only its own charts."""

from __future__ import annotations

import pytest

from tests.app import test_eda, test_models_page, test_revenue_page, test_segments_page
from tests.app.conftest import assert_tab_charts, open_page

pytestmark = pytest.mark.app

PAGES = [
    ("pages/eda.py", "eda_tab", "eda", test_eda.TAB_CHARTS),
    ("pages/models.py", "model_tab", "model", test_models_page.TAB_CHARTS),
    ("pages/revenue.py", "clv_tab", "clv", test_revenue_page.TAB_CHARTS),
    ("pages/segments.py", "seg_tab", "seg", test_segments_page.TAB_CHARTS),
]
CASES = [(path, key, prefix, name, n) for path, key, prefix, charts in PAGES for name, n in charts.items()]


@pytest.fixture(scope="module")
def pages() -> dict:
    return {}


@pytest.mark.parametrize(("path", "state_key", "prefix", "name", "expected"), CASES)
def test_tab(pages, path: str, state_key: str, prefix: str, name: str, expected: int) -> None:
    if path not in pages:
        pages[path] = open_page(path)
    at = pages[path]
    assert_tab_charts(at, state_key, prefix, name, expected)
