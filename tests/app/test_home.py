"""AppTest of the entry point and the Home page: real KPIs, language switch, links."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from churn_core.config import PROJECT_ROOT

pytestmark = pytest.mark.app

ENTRY = str(PROJECT_ROOT / "Home.py")


@pytest.fixture
def home() -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_home_shows_real_kpis_in_korean(home: AppTest) -> None:
    assert home.title[0].value == "멀티텔레콤 리텐션 스튜디오"
    metrics = _metrics(home)
    assert metrics["고객 수"] == "7,043"
    assert metrics["이탈률"] == "26.5%"
    assert metrics["시니어(65+) 이탈률"] == "41.7%"
    assert metrics["이탈 고객 월 매출 (USD)"] == "$139,131"
    senior = next(m for m in home.metric if m.label == "시니어(65+) 이탈률")
    assert "18.1" in senior.delta  # 41.7% - 23.6% in percentage points
    assert any("23.6%" in c.value for c in home.caption)
    assert any("USD" in i.value and "IBM" in i.value for i in home.info)  # honest data note
    assert len(home.get("plotly_chart")) == 1
    assert not home.error


def test_language_switch_to_english_and_back(home: AppTest) -> None:
    home.selectbox(key="_lang_widget").select("en").run()
    assert home.title[0].value == "Multi-Telecom Retention Studio"
    metrics = _metrics(home)
    assert metrics["Churn rate"] == "26.5%"
    assert metrics["Customers"] == "7,043"
    assert metrics["MRR lost to churn (USD)"] == "$139,131"
    home.selectbox(key="_lang_widget").select("ko").run()
    assert home.title[0].value == "멀티텔레콤 리텐션 스튜디오"


def test_language_is_kept_across_pages(home: AppTest) -> None:
    home.selectbox(key="_lang_widget").select("en").run()
    home.switch_page("pages/eda.py").run()
    assert not home.exception
    assert home.title[0].value == "Exploratory analysis: who churns, and why"


def test_home_links_to_every_page(home: AppTest) -> None:
    links = [el.proto for el in home.get("page_link")]
    targets = {link.page for link in links}
    assert "eda" in targets  # sidebar navigation and the link in the page body
    assert sum(link.page == "eda" for link in links) == 2
    assert {link.label for link in links} >= {"홈", "탐색적 분석 (EDA)"}
