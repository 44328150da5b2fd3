"""One-click unsubscribe end to end: the real API under uvicorn on 127.0.0.1, a real DuckDB file,
real HTTP (requests), and an e-mail campaign through a real SMTP server whose List-Unsubscribe
link is then used as a mail client would (RFC 8058)."""

from __future__ import annotations

import datetime as dt
import email
import re
import uuid
from email import policy
from html.parser import HTMLParser

import pandas as pd
import pytest
import requests

from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.i18n import t
from churn_core.outreach import campaigns as outreach
from churn_core.outreach import contacts, unsubscribe
from churn_core.outreach.campaigns import SendOptions, SmtpEmailChannel
from tests.helpers.hostile import HOSTILE_PHONE, HOSTILE_PRIVACY_URL
from tests.helpers.outreach_doubles import DAY, SENDER, Clock, consented

pytestmark = pytest.mark.api

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
TIMEOUT = 30  # seconds per request (a write waits at most 10 s for a busy DuckDB file)


class Page(HTMLParser):
    """A page as a browser parses it: its elements, its text, its links and its hidden fields."""

    def __init__(self, body: str):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text, self.hrefs, self.hidden, self.forms = "", [], {}, []
        self.feed(body)

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "a":
            self.hrefs.append(attrs["href"])
        if tag == "form":
            self.forms.append(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.hidden[attrs["name"]] = attrs["value"]

    def handle_data(self, data) -> None:
        self.text += data


#: Every element the pages may have: anything else came from data.
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "section", "h1", "p", "form", "input", "button", "a"}


def _customer() -> str:
    return f"OPTOUT-{uuid.uuid4().hex[:8]}"


def _events(api, customer_id: str | None = None) -> pd.DataFrame:
    """consent_events of the API's warehouse, read between requests (the API holds the file only while writing)."""
    wh = DuckDBWarehouse(api.warehouse_path, RAW_CUSTOMERS_CSV, lock_timeout=10)
    try:
        if not wh.table_exists("consent_events"):
            return pd.DataFrame(columns=["customer_id", "channel", "event", "source", "evidence"])
        where, params = ("customer_id = @c", {"c": customer_id}) if customer_id else ("TRUE", {})
        return wh.query(f"SELECT * FROM {{consent_events}} WHERE {where} ORDER BY recorded_at", params)
    finally:
        wh.close()


def test_one_click_post_records_the_withdrawal_at_once_and_confirms(api_server) -> None:
    customer = _customer()
    token = unsubscribe.mint(customer, api_server.secret, "email", "camp-2026-11")
    before = dt.datetime.now(dt.UTC)
    resp = requests.post(f"{api_server.url}/optout", params={"token": token}, data=ONE_CLICK, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    assert t("optout.done_h", "ko") in resp.text and t("optout.done_h", "en") in resp.text
    assert resp.text.index(t("optout.done_h", "ko")) < resp.text.index(t("optout.done_h", "en"))  # Korean first
    events = _events(api_server, customer)
    assert len(events) == 1  # durable at once: another process reads it right after the answer
    row = events.iloc[0]
    assert (row["channel"], row["event"], row["source"]) == ("email", "withdrawn", "unsubscribe_link")
    token_id = unsubscribe.verify(token, api_server.secret).token_id
    assert row["evidence"].startswith(f"token {token_id}; campaign camp-2026-11")
    assert token not in row["evidence"]  # the bearer token itself is not stored
    assert pd.Timestamp(row["recorded_at"]).to_pydatetime() >= before.replace(microsecond=0)

    again = requests.post(f"{api_server.url}/optout", params={"token": token}, data=ONE_CLICK, timeout=TIMEOUT)
    assert again.status_code == 200  # idempotent: a second withdrawal is recorded, the state stays withdrawn
    assert list(_events(api_server, customer)["event"]) == ["withdrawn", "withdrawn"]
    assert "token=[redacted]" in api_server.log_path.read_text() and token not in api_server.log_path.read_text()


def test_the_confirmation_button_posts_the_token_as_a_form_field(api_server) -> None:
    customer = _customer()
    token = unsubscribe.mint(customer, api_server.secret, "email")
    page = requests.get(f"{api_server.url}/optout", params={"token": token}, timeout=TIMEOUT)
    parsed = Page(page.text)
    assert [f["method"] for f in parsed.forms] == ["post", "post"] and parsed.hidden["token"] == token
    action = parsed.forms[0]["action"]  # relative: works behind a proxy's path prefix too
    resp = requests.post(f"{api_server.url}/{action}", data={"token": parsed.hidden["token"]}, timeout=TIMEOUT)
    assert resp.status_code == 200
    assert list(_events(api_server, customer)["source"]) == ["unsubscribe_link"]
    other = _customer()  # mail providers may send the one-click body as multipart/form-data
    multipart = requests.post(f"{api_server.url}/optout", params={"token": unsubscribe.mint(other, api_server.secret)},
                              files={"List-Unsubscribe": (None, "One-Click")}, timeout=TIMEOUT)  # fmt: skip
    assert multipart.status_code == 200 and multipart.request.headers["content-type"].startswith("multipart/form-data")
    assert len(_events(api_server, other)) == 1


def test_get_shows_an_escaped_confirmation_page_and_records_nothing(api_server) -> None:
    customer = _customer()
    token = unsubscribe.mint(customer, api_server.secret, "email")
    resp = requests.get(f"{api_server.url}/optout", params={"token": token}, timeout=TIMEOUT)
    assert resp.status_code == 200
    body = resp.text
    assert body.index(t("optout.confirm_h", "ko")) < body.index(t("optout.confirm_h", "en"))
    assert t("optout.confirm_text", "ko", channel=t("optout.channel_email", "ko")) in body
    assert t("optout.confirm_text", "en", channel=t("optout.channel_email", "en")) in body
    page = Page(body)
    assert page.tags <= PAGE_TAGS  # the hostile privacy URL added no element
    assert set(page.hrefs) == {HOSTILE_PRIVACY_URL}  # shown literally, inside its attribute
    assert page.hidden == {"token": token, "List-Unsubscribe": "One-Click"}
    assert "<script>" not in body
    assert customer not in body  # the page says "this address", not who
    assert _events(api_server, customer).empty  # a GET (mail scanner, link preview) never opts anyone out
    headers = resp.headers
    assert (
        "frame-ancestors 'none'" in headers["content-security-policy"]
        and "script-src" not in headers["content-security-policy"]
    )
    assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"


def test_forged_altered_or_garbled_tokens_get_a_clear_400_and_record_nothing(api_server) -> None:
    customer = _customer()
    good = unsubscribe.mint(customer, api_server.secret, "email")
    payload, stamp, signature = good.split(".")
    # the first character: all its 6 bits are signature bits (the last one's low bits are padding in base64)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other_customer = unsubscribe.mint("7590-VHVEG", api_server.secret, "email").split(".")[0]
    attacks = {
        "signed with another key": unsubscribe.mint(customer, "x" * 40, "email"),
        "a signature character changed": f"{payload}.{stamp}.{flipped}",
        "payload swapped for another customer": f"{other_customer}.{stamp}.{signature}",
        "truncated": good[:-10],
        "garbage": "not-a-token",
        "empty": "",
        "markup": '"><script>window.pwned=1</script>',
        "oversized": good + "A" * 5_000,
    }
    for name, token in attacks.items():
        for method in ("post", "get"):
            resp = requests.request(method, f"{api_server.url}/optout", params={"token": token}, data=ONE_CLICK,
                                    timeout=TIMEOUT)  # fmt: skip
            assert resp.status_code == 400, (name, method, resp.status_code)
            assert t("optout.invalid_h", "ko") in resp.text and t("optout.invalid_text", "en", phone="") != ""
            assert "<script>" not in resp.text and (not token or token not in resp.text), name  # never echoed
            page = Page(resp.text)
            assert page.tags <= PAGE_TAGS and not page.forms and not page.hidden, name  # no button to press
            assert t("optout.invalid_text", "ko", phone=HOSTILE_PHONE) in page.text  # the number shown literally
    no_token = requests.post(f"{api_server.url}/optout", data=ONE_CLICK, timeout=TIMEOUT)
    other = unsubscribe.mint("OTHER-1", api_server.secret)
    two_tokens = requests.post(f"{api_server.url}/optout", params={"token": good}, data={"token": other},
                               timeout=TIMEOUT)  # fmt: skip
    assert (no_token.status_code, two_tokens.status_code) == (400, 400)
    events = _events(api_server)
    assert not events["customer_id"].isin([customer, "7590-VHVEG", "OTHER-1"]).any()


def test_a_huge_body_is_refused_before_it_is_read(api_server) -> None:
    customer = _customer()
    token = unsubscribe.mint(customer, api_server.secret)
    resp = requests.post(f"{api_server.url}/optout", params={"token": token},
                         data={"List-Unsubscribe": "One-Click", "pad": "x" * 200_000}, timeout=TIMEOUT)  # fmt: skip
    assert resp.status_code == 413
    assert _events(api_server, customer).empty


def test_a_failed_write_answers_503_and_claims_nothing(api_server) -> None:
    """The realistic failure on DuckDB: another process (the app, a batch job) holds the file."""
    customer = _customer()
    token = unsubscribe.mint(customer, api_server.secret)
    holder = DuckDBWarehouse(api_server.warehouse_path, RAW_CUSTOMERS_CSV)
    try:
        holder.query("SELECT 1 AS x")  # holds the file's lock for this process
        resp = requests.post(f"{api_server.url}/optout", params={"token": token}, data=ONE_CLICK, timeout=TIMEOUT)
    finally:
        holder.close()
    assert resp.status_code == 503 and resp.headers["retry-after"] == "60"
    assert t("optout.unavailable_text", "ko", phone=HOSTILE_PHONE) in Page(resp.text).text
    assert t("optout.done_h", "ko") not in resp.text and t("optout.done_h", "en") not in resp.text
    assert _events(api_server, customer).empty
    retry = requests.post(f"{api_server.url}/optout", params={"token": token}, data=ONE_CLICK, timeout=TIMEOUT)
    assert retry.status_code == 200 and len(_events(api_server, customer)) == 1  # the same link works once free


def test_every_email_of_a_campaign_carries_a_working_one_click_link(api_server, smtp_server, tmp_path) -> None:
    """Send a campaign through a real SMTP server, then use each List-Unsubscribe link as a mail client does."""
    controller, inbox, client_ctx = smtp_server
    ids = [_customer(), _customer()]
    book = contacts.demo_contacts(pd.DataFrame({"customer_id": ids}), gus=("종로구",)).assign(
        is_demo=False, email_consent=True, sms_consent=False, opted_out=False, night_consent=False
    )
    channel = SmtpEmailChannel(
        "127.0.0.1", controller.port, "retention@example.com", tls_context=client_ctx,
        unsubscribe_url=f"{api_server.url}/optout", unsubscribe_secret=api_server.secret,
    )  # fmt: skip
    ledger_wh = DuckDBWarehouse(tmp_path / "ledger.duckdb", RAW_CUSTOMERS_CSV)  # the sender's own warehouse
    clock = Clock(DAY)
    try:
        ledger_wh.ensure_tables()  # the ledger only: no customers table needed
        consented(ledger_wh, book)  # the consent the book states, as dated history (what a send reads)
        audience = pd.DataFrame({"customer_id": ids, "risk_tier": "high"})
        outreach.plan(ledger_wh, "mail-1", audience, "email", 0.0, "kim", clock())
        options = SendOptions(sleep=clock.sleep, now=clock)
        counts = outreach.send(ledger_wh, "mail-1", channel, SENDER, book, {}, options)
    finally:
        ledger_wh.close()
    assert counts["sent"] == 2, counts
    by_address = dict(zip(book["email"], book["customer_id"], strict=True))
    for _, rcpts, raw in inbox.messages:
        customer = by_address[rcpts[0]]
        header_line = re.search(rb"^List-Unsubscribe:.*(?:\r?\n[ \t].*)*", raw, re.MULTILINE).group(0)
        assert b"=?" not in header_line  # no RFC 2047 encoded-word: clients read the URL literally
        msg = email.message_from_bytes(raw, policy=policy.default)
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = re.search(r"<(http[^>]+)>", msg["List-Unsubscribe"]).group(1)
        assert link.startswith(f"{api_server.url}/optout?token=")
        verified = unsubscribe.verify(link.split("token=", 1)[1], api_server.secret)
        assert (verified.customer_id, verified.channel, verified.campaign_id) == (customer, "email", "mail-1")
        resp = requests.post(link, data=ONE_CLICK, timeout=TIMEOUT)  # RFC 8058: POST to the header's URL
        assert resp.status_code == 200
        assert list(_events(api_server, customer)["channel"]) == ["email"]
    assert len(inbox.messages) == 2
