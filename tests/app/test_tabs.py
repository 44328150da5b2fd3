"""Every lazy tab of every page runs without an exception and draws only its own charts."""

from __future__ import annotations

import pytest

from tests.helpers.apptest import LAZY_TABS, assert_tab_charts, open_page

pytestmark = pytest.mark.app

CASES = [(page, name, n) for page in LAZY_TABS.values() for name, n in page.charts.items()]


@pytest.mark.parametrize(("page", "name", "expected"), CASES, ids=[f"{p.prefix}-{name}" for p, name, _ in CASES])
def test_tab(page, name: str, expected: int) -> None:
    at = open_page(page.path, role="analyst")  # a fresh app per tab: no test depends on the tab another one opened
    assert_tab_charts(at, page.state_key, page.prefix, name, expected)
