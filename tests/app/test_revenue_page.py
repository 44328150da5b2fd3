"""AppTest of the Revenue & CLV page: identity, survival, CLV, revenue at risk, campaign."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import open_page, open_tab

pytestmark = pytest.mark.app


@pytest.fixture
def page() -> AppTest:
    return open_page("pages/revenue.py", role="analyst")


def test_survival_tab_shows_identity_and_held_out_concordance(page: AppTest) -> None:
    open_tab(page, "clv_tab", "clv", "survival")
    assert any("11" in w.value and "항등식" in w.value for w in page.warning)
    c_indexes = [float(m.value) for m in page.metric]
    assert len(c_indexes) == 2 and min(c_indexes) >= 0.85


def test_campaign_reacts_to_assumptions(page: AppTest) -> None:
    open_tab(page, "clv_tab", "clv", "campaign")
    before = page.dataframe[0].value["net_gain_usd"].iloc[-1]
    page.slider(key="cp_reduction").set_value(30).run()
    after = page.dataframe[0].value["net_gain_usd"].iloc[-1]
    assert after > before
    assert any("손익분기" in m.value for m in page.markdown)


def test_campaign_targets_and_clv_assumptions(page: AppTest, warehouse_table) -> None:
    open_tab(page, "clv_tab", "clv", "campaign")
    page.selectbox(key="cp_audience").select("seniors").run()
    assert any(f"{int(warehouse_table['is_senior'].sum()):,}" in m.value for m in page.markdown)
    open_tab(page, "clv_tab", "clv", "clv")
    low = page.metric[0].value
    page.slider(key="clv_margin").set_value(60).run()
    assert page.metric[0].value != low  # doubling the margin doubles CLV
