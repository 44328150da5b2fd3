"""Helpers for AppTest: open a page through the entry point, open a lazy tab."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from churn_core.config import PROJECT_ROOT
from churn_core.i18n import t

ENTRY = str(PROJECT_ROOT / "Home.py")


def open_page(path: str | None = None) -> AppTest:
    """Run the app from its entry point and switch to ``path`` (e.g. "pages/eda.py")."""
    at = AppTest.from_file(ENTRY, default_timeout=180).run()
    if path:
        at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def open_tab(at: AppTest, state_key: str, catalog_prefix: str, name: str, lang: str = "ko") -> AppTest:
    """Select the lazy tab ``<catalog_prefix>.tab_<name>`` of a page and rerun."""
    at.session_state[state_key] = t(f"{catalog_prefix}.tab_{name}", lang)
    return at.run()


def assert_tab_charts(at: AppTest, state_key: str, catalog_prefix: str, name: str, expected: int) -> None:
    """Open a lazy tab and check it ran without exception and drew ``expected`` charts."""
    open_tab(at, state_key, catalog_prefix, name)
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == expected
