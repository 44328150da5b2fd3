"""Helpers for Streamlit's AppTest: open a page through the entry point (signed in with a
role when asked, through the real sign-in form), open a lazy tab, and the charts every lazy
tab of a page is expected to draw."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from streamlit.testing.v1 import AppTest

from churn_core.auth import ROLE_PERMISSIONS, hash_password
from churn_core.config import PROJECT_ROOT
from churn_core.i18n import t

ENTRY = str(PROJECT_ROOT / "Home.py")

#: Password of the test accounts ``test-analyst``, ``test-marketer``, ``test-staff``.
ACCOUNT_PASSWORD = "test accounts passphrase"


def role_user(role: str) -> str:
    """User name of the test account with ``role``."""
    return f"test-{role}"


@lru_cache(maxsize=1)
def accounts_json() -> str:
    """``CHURN_STAFF_USERS`` holding one test account per role (Argon2 hashes made once per process)."""
    users = {role_user(r): {"password_hash": hash_password(ACCOUNT_PASSWORD), "role": r} for r in ROLE_PERMISSIONS}
    return json.dumps(users)


@dataclass(frozen=True)
class LazyTabs:
    """The lazy tabs of one page.

    Attributes
    ----------
    path : str
        The page, relative to the project root (``"pages/eda.py"``).
    state_key : str
        The session-state key holding the open tab.
    prefix : str
        Catalog prefix of the tab labels (``<prefix>.tab_<name>``).
    charts : Mapping[str, int]
        Plotly charts each tab draws, by tab name, in the page's order (read-only).
    """

    path: str
    state_key: str
    prefix: str
    charts: Mapping[str, int]


def _tabs(path: str, state_key: str, prefix: str, **charts: int) -> LazyTabs:
    return LazyTabs(path, state_key, prefix, MappingProxyType(charts))


#: The lazy tabs of the pages, by page, with the charts each tab draws.
LAZY_TABS: Mapping[str, LazyTabs] = MappingProxyType(
    {
        "eda": _tabs("pages/eda.py", "eda_tab", "eda", features=2, distributions=1, tenure_age=2, seniors=1,
                     reasons=1, correlation=1, table=0),
        "models": _tabs("pages/models.py", "model_tab", "model", leaderboard=0, curves=4, profit=2, importance=1,
                        registry=0, card=0),
        "revenue": _tabs("pages/revenue.py", "clv_tab", "clv", survival=1, clv=2, risk=1, campaign=1),
        "segments": _tabs("pages/segments.py", "seg_tab", "seg", clusters=2, seniors=0, factors=1, map=1),
    }
)  # fmt: skip


def sign_in(at: AppTest, user: str, password: str = ACCOUNT_PASSWORD) -> AppTest:
    """Fill the sign-in form the page shows and submit it (the page reruns signed in, or shows why not)."""
    at.text_input(key="login_user").input(user)
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.proto.is_form_submitter).click().run()
    return at


def open_page(path: str | None = None, role: str | None = None) -> AppTest:
    """Run the app from its entry point and switch to ``path`` (e.g. "pages/eda.py").

    With ``role``, sign in through the page's sign-in form as the test account of that
    role (``CHURN_STAFF_USERS`` must hold :func:`accounts_json`: tests under ``tests/app``
    get it from their conftest).
    """
    at = AppTest.from_file(ENTRY, default_timeout=180).run()
    if role:  # Home offers the sign-in form in the sidebar (or in the page when Home is not public)
        sign_in(at, role_user(role))
        assert at.session_state["staff_role"] == role, [e.value for e in at.error]
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
    drawn = len(at.get("plotly_chart"))  # a message of its own: pytest rewrites no assert outside tests and conftests
    assert drawn == expected, f"tab {name!r} drew {drawn} charts, expected {expected}"
