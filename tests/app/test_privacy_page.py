"""AppTest of the privacy page's opt-out form: with a signed link's token a button records the
withdrawal at once; a bad token records nothing; without a token the page says how to opt out."""

from __future__ import annotations

import re
import uuid

import pytest

from churn_core.config import get_settings
from churn_core.i18n import t
from churn_core.outreach import unsubscribe
from tests.helpers.apptest import open_page

pytestmark = pytest.mark.app

KEY = "privacy-page-test-key-" + "k" * 20


@pytest.fixture
def signing_key(monkeypatch):
    monkeypatch.setenv("CHURN_UNSUBSCRIBE_SECRET", KEY)
    get_settings.cache_clear()
    yield KEY
    get_settings.cache_clear()


def _privacy_page(token: str | None):
    at = open_page()
    if token is not None:
        at.query_params["token"] = token  # as opened from the link in a message
    at.switch_page("pages/privacy.py").run()
    assert not at.exception, at.exception
    return at


def _events(duckdb_warehouse, customer: str):
    return duckdb_warehouse.query("SELECT * FROM {consent_events} WHERE customer_id = @c", {"c": customer})


def test_a_signed_link_opts_out_with_one_click_on_the_page(signing_key, duckdb_warehouse) -> None:
    customer = f"OPTOUT-{uuid.uuid4().hex[:8]}"
    at = _privacy_page(unsubscribe.mint(customer, signing_key, "email", "camp-page"))
    confirm = t("optout.confirm_text", "ko", channel=t("optout.channel_email", "ko"))
    assert any(m.value == confirm for m in at.markdown)
    assert customer not in str([m.value for m in at.markdown])  # "this address", not who
    assert _events(duckdb_warehouse, customer).empty  # opening the page records nothing
    at.button(key="optout_confirm").click().run()
    assert not at.exception, at.exception
    events = _events(duckdb_warehouse, customer)
    assert len(events) == 1
    assert (events.iloc[0]["channel"], events.iloc[0]["event"], events.iloc[0]["source"]) == (
        "email", "withdrawn", "privacy_form"
    )  # fmt: skip
    done = t("optout.done_text", "ko", when="WHEN", channel=t("optout.channel_email", "ko"),
             phone=get_settings().opt_out_phone)  # fmt: skip
    pattern = re.escape(done).replace("WHEN", r"\d{4}-\d\d-\d\d \d\d:\d\d")
    assert [s.value for s in at.success] and re.fullmatch(pattern, at.success[0].value), at.success


def test_a_forged_token_shows_an_error_and_records_nothing(signing_key, duckdb_warehouse) -> None:
    customer = f"OPTOUT-{uuid.uuid4().hex[:8]}"
    at = _privacy_page(unsubscribe.mint(customer, signing_key + "-forged", "email"))
    assert [e.value for e in at.error] == [t("optout.invalid_text", "ko", phone=get_settings().opt_out_phone)]
    assert not [b for b in at.button if b.key == "optout_confirm"]
    assert _events(duckdb_warehouse, customer).empty


def test_without_a_token_the_page_says_how_to_opt_out(signing_key) -> None:
    at = _privacy_page(None)
    assert [i.value for i in at.info] == [t("optout.no_token", "ko", phone=get_settings().opt_out_phone)]
    assert not [b for b in at.button if b.key == "optout_confirm"]
