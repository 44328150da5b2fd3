"""Roles on every page and every download (AppTest through the real sign-in form): signed out,
customer-level pages show only the sign-in form; public pages stay usable; the EDA table and
downloads need a role; idle sessions end; OIDC needs a verified address; guessing is throttled."""

from __future__ import annotations

import json
import logging

import pytest

import ui.auth
from churn_core.auth import create_demo_accounts
from churn_core.config import get_settings
from churn_core.escaping import markdown_text
from churn_core.i18n import t
from tests.helpers.apptest import ACCOUNT_PASSWORD, open_page, open_tab, role_user, sign_in

pytestmark = pytest.mark.app

CUSTOMER_PAGES = ["pages/scoring.py", "pages/revenue.py", "pages/segments.py", "pages/outreach.py"]
PUBLIC_PAGES = ["Home.py", "pages/eda.py", "pages/models.py", "pages/map.py", "pages/privacy.py"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """Moves the app's clock (idle timeout, throttle) by hand; a fresh throttle for this test only."""
    fake = FakeClock()
    monkeypatch.setattr(ui.auth, "clock", fake)
    monkeypatch.setattr(ui.auth, "_THROTTLE", None)
    return fake


def _nothing_of_customers(at) -> None:
    assert not at.exception, at.exception
    assert not at.dataframe and not at.metric and not at.get("download_button") and not at.get("plotly_chart")
    assert not at.get("deck_gl_json_chart") and not at.table


@pytest.mark.parametrize("path", CUSTOMER_PAGES)
def test_signed_out_a_customer_page_shows_only_the_sign_in_form(path) -> None:
    at = open_page()
    at.switch_page(path).run()  # as a direct URL would
    assert at.text_input(key="login_user").label == t("out.username", "ko")
    assert [i.value for i in at.info if i.value == t("auth.sign_in_to_see", "ko")]
    _nothing_of_customers(at)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_open_signed_out(path) -> None:
    at = open_page()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    assert at.title and not [i for i in at.info if i.value == t("auth.sign_in_to_see", "ko")]
    assert not at.get("download_button")  # nothing to download signed out, not even on public pages
    assert at.sidebar.text_input(key="login_user")  # signing in is offered in the sidebar
    if path == "pages/map.py":  # the map stays public by default (tests/app/test_map_page.py uses it signed out)
        assert at.title[0].value == t("map.title", "ko")


def test_eda_table_tab_needs_a_role_and_its_download_another() -> None:
    at = open_tab(open_page("pages/eda.py"), "eda_tab", "eda", "table")
    assert not at.dataframe and not at.get("download_button")
    assert [i for i in at.info if i.value == t("auth.sign_in_in_sidebar", "ko")]
    sign_in(at, role_user("marketer"))  # the sidebar form of a public page
    assert len(at.dataframe[0].value) == 1000 and not at.get("download_button")
    roles = ", ".join(t(f"role.{r}", "ko") for r in ("analyst", "staff"))  # role names translated (#16)
    assert any(c.value == t("auth.download_needs_role", "ko", roles=roles) for c in at.caption)
    analyst = open_tab(open_page("pages/eda.py", role="analyst"), "eda_tab", "eda", "table")
    assert len(analyst.dataframe[0].value) == 1000 and len(analyst.get("download_button")) == 1


def test_analyst_reads_scores_but_cannot_send() -> None:
    at = open_tab(open_page("pages/scoring.py", role="analyst"), "score_tab", "score", "seniors")
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) > 100 and len(at.get("download_button")) == 1
    at.switch_page("pages/outreach.py").run()
    assert any(t("role.analyst", "ko") in w.value for w in at.warning)  # the role's name, translated (#16)
    assert not at.dataframe and not at.metric and not [b for b in at.button if b.key in ("o_plan", "o_send")]


def test_marketer_sees_the_at_risk_list_without_its_download() -> None:
    at = open_tab(open_page("pages/scoring.py", role="marketer"), "score_tab", "score", "seniors")
    assert len(at.dataframe[0].value) > 100 and not at.get("download_button")


def test_idle_session_is_signed_out_at_its_next_interaction(clock) -> None:
    at = open_page("pages/scoring.py", role="analyst")
    assert at.session_state["staff_role"] == "analyst" and not at.text_input
    clock.now += 29 * 60  # still active: each run counts as activity
    at.run()
    assert at.session_state["staff_role"] == "analyst"
    clock.now += 30 * 60 + 1
    at.run()
    assert "staff_role" not in at.session_state
    minutes = f"{get_settings().session_idle_minutes:g}"
    assert [i for i in at.info if i.value == t("auth.idle_signed_out", "ko", minutes=minutes)]
    assert at.text_input(key="login_user")
    _nothing_of_customers(at)


OIDC_SECRETS = {
    "auth": {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret-not-used",
        "client_id": "churn-studio",
        "client_secret": "test-secret-not-used",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}


@pytest.fixture
def oidc_roles(monkeypatch):
    monkeypatch.setenv("CHURN_OIDC_ROLES", json.dumps({"lee@corp.example": "analyst"}))
    get_settings.cache_clear()


def _oidc_app(path: str, **claims):
    at = open_page()
    at.secrets = OIDC_SECRETS
    at.user = {"is_logged_in": True, "email": "lee@corp.example", **claims}
    at.switch_page(path).run()
    return at


@pytest.mark.parametrize("claims", [{"email_verified": False}, {}, {"email_verified": "true"}])
def test_oidc_unverified_address_gets_no_role(oidc_roles, claims) -> None:
    at = _oidc_app("pages/outreach.py", **claims)  # where the role used to be taken from any address
    assert "staff_role" not in at.session_state
    shown = t("auth.oidc_no_role", "ko", email=markdown_text("lee@corp.example"))  # escaped: it comes from outside
    assert [w for w in at.warning if w.value == shown]
    _nothing_of_customers(at)


def test_oidc_verified_address_signs_in_and_signs_out_at_the_provider(oidc_roles, clock) -> None:
    at = _oidc_app("pages/scoring.py", email_verified=True)
    assert at.session_state["staff_role"] == "analyst" and not at.text_input
    at.sidebar.button(key="sign_out").click().run()
    assert at.user == {"is_logged_in": False}  # st.logout(): identity cookie and provider session
    assert "staff_role" not in at.session_state and at.text_input(key="login_user")
    again = _oidc_app("pages/scoring.py", email_verified=True)
    clock.now += 31 * 60
    again.run()
    assert again.user == {"is_logged_in": False} and "staff_role" not in again.session_state


def test_guessing_through_the_form_is_throttled_across_sessions(clock, caplog) -> None:
    caplog.set_level(logging.INFO, logger="churn_core.auth")
    user, guess = role_user("staff"), "not the password 1"
    at = open_page("pages/scoring.py")
    sign_in(at, user, guess)
    assert [e for e in at.error if e.value == t("out.bad_login", "ko")]
    sign_in(at, user, ACCOUNT_PASSWORD)  # at once: refused before the password is checked
    assert [e for e in at.error if e.value == t("auth.too_soon", "ko", seconds=1)]
    for _ in range(4):  # a fresh session for every guess
        clock.now += 60
        sign_in(open_page("pages/scoring.py"), user, guess)
    clock.now += 60
    fresh = sign_in(open_page("pages/scoring.py"), user, ACCOUNT_PASSWORD)
    assert "staff_role" not in fresh.session_state
    assert [e for e in fresh.error if e.value == t("auth.locked", "ko", minutes=14)]
    _nothing_of_customers(fresh)
    clock.now += 15 * 60
    assert sign_in(fresh, user, ACCOUNT_PASSWORD).session_state["staff_role"] == "staff"
    assert ACCOUNT_PASSWORD not in caplog.text and guess not in caplog.text
    assert caplog.text.count("sign-in failed") == 5 and "account='test-staff'" in caplog.text


def test_demo_accounts_sign_in_and_are_labelled(monkeypatch, tmp_path) -> None:
    path = tmp_path / "demo_accounts.json"
    passwords = create_demo_accounts(path)
    monkeypatch.setenv("CHURN_STAFF_USERS", "{}")
    monkeypatch.setenv("CHURN_DEMO_ACCOUNTS_FILE", str(path))
    get_settings.cache_clear()
    at = open_page()
    assert any("demo-analyst" in i.value for i in at.info)  # the form says which demo accounts exist
    sign_in(at, "demo-analyst", passwords["demo-analyst"])
    assert at.session_state["staff_role"] == "analyst"
    assert any(c.value == t("auth.demo_account", "ko") for c in at.sidebar.caption)
