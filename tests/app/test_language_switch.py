"""Switching the UI language keeps what the user opened and chose (AppTest side).

AppTest shows what the server keeps: the open tab of every page (Streamlit's tabs are
identified by their titles, which change with the language) and the selections of the
pages. What the browser posts back after a switch is checked in
``tests/browser/test_language_switch_browser.py``.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from churn_core.analytics.offer_simulation import NAMED_AUDIENCES
from churn_core.i18n import t
from tests.helpers.apptest import LAZY_TABS, LazyTabs, open_page, open_tab

pytestmark = pytest.mark.app

SCORING = LazyTabs("pages/scoring.py", "score_tab", "score", {"single": 1, "batch": 0, "seniors": 0})
#: Every page with lazy tabs, and a tab other than the first one to open on it.
CASES = [(tabs, list(tabs.charts)[-1]) for tabs in (*LAZY_TABS.values(), SCORING)]


def _english(at: AppTest) -> AppTest:
    at.selectbox(key="_lang_widget").select("en").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(("tabs", "name"), CASES, ids=[f"{tabs.prefix}-{name}" for tabs, name in CASES])
def test_open_tab_survives_a_language_switch(tabs: LazyTabs, name: str) -> None:
    at = open_tab(open_page(tabs.path, role="analyst"), tabs.state_key, tabs.prefix, name)
    assert at.session_state[tabs.state_key] == t(f"{tabs.prefix}.tab_{name}", "ko")
    _english(at)
    assert at.session_state[tabs.state_key] == t(f"{tabs.prefix}.tab_{name}", "en")
    assert [tab.label for tab in at.tabs][-1] == t(f"{tabs.prefix}.tab_{name}", "en")  # titles in English
    assert len(at.get("plotly_chart")) == tabs.charts[name]  # the open tab's content, not the first tab's
    at.selectbox(key="_lang_widget").select("ko").run()
    assert at.session_state[tabs.state_key] == t(f"{tabs.prefix}.tab_{name}", "ko")


def test_open_tab_is_kept_when_coming_back_to_the_page() -> None:
    at = open_tab(open_page("pages/eda.py"), "eda_tab", "eda", "correlation")
    at.switch_page("Home.py").run()
    at.switch_page("pages/eda.py").run()
    assert at.session_state["eda_tab"] == t("eda.tab_correlation", "ko")


def _target(at: AppTest, lang: str) -> str:
    """The count of target customers the campaign simulator states."""
    head, tail = t("clv.target", lang, n="\0").split("\0")
    text = next(m.value for m in at.markdown if m.value.startswith(head) and tail[:12] in m.value)
    return text.removeprefix(head).split(tail[:3])[0]


def test_campaign_simulator_keeps_its_audience_and_sliders() -> None:
    at = open_tab(open_page("pages/revenue.py", role="analyst"), "clv_tab", "clv", "campaign")
    at.slider(key="cp_discount").set_value(20).run()
    assert at.session_state["cp_audience"] == NAMED_AUDIENCES[0]
    at.selectbox(key="cp_audience").set_value("seniors").run()  # every senior: not the default audience
    n = _target(at, "ko")
    _english(at)
    assert at.session_state["clv_tab"] == t("clv.tab_campaign", "en")
    assert at.slider(key="cp_discount").value == 20
    assert at.session_state["cp_audience"] == "seniors"
    assert at.selectbox(key="cp_audience").options[1] == t("clv.audience_seniors", "en")
    assert _target(at, "en") == n


@pytest.mark.parametrize(
    ("path", "tab", "key", "value"),
    [("pages/map.py", None, "map_mode", "click"), ("pages/segments.py", "map", "seg_color", "churned")],
    ids=["map-origin-mode", "segments-colour"],
)
def test_radio_choice_survives_a_language_switch(path: str, tab: str | None, key: str, value: str) -> None:
    at = open_page(path, role="analyst")
    if tab:
        open_tab(at, "seg_tab", "seg", tab)
    at.radio(key=key).set_value(value).run()
    _english(at)
    assert at.radio(key=key).value == value
    assert at.radio(key=key).options == [o for o in at.radio(key=key).options if o.isascii()]  # English labels
