"""The real channels against local servers on 127.0.0.1: aiosmtpd (STARTTLS) and a Twilio API stub."""

from __future__ import annotations

import base64
import datetime as dt
import email
from email import policy

import pandas as pd
import pytest

from churn_core.outreach import campaigns as outreach
from churn_core.outreach import compliance, contacts
from churn_core.outreach.campaigns import SendOptions, SmtpEmailChannel, TwilioSmsChannel
from churn_core.outreach.compliance import KST
from tests.helpers.outreach_doubles import SENDER, Clock, consented
from tests.helpers.servers import JsonStub
from tests.helpers.smtp import running_smtp

pytestmark = pytest.mark.unit

SID, TOKEN = "AC" + "0" * 32, "test-token-not-secret"


# -- SMTP ----------------------------------------------------------------------------------
@pytest.fixture
def smtp_server():
    """aiosmtpd on a free 127.0.0.1 port requiring STARTTLS (tests.helpers.smtp)."""
    with running_smtp() as server:
        yield server


def test_korean_email_arrives_over_starttls_with_every_required_part(smtp_server) -> None:
    controller, inbox, client_ctx = smtp_server
    channel = SmtpEmailChannel(
        "127.0.0.1", controller.port, "retention@example.com",
        starttls=True, tls_context=client_ctx, unsubscribe_url="http://localhost:8501/privacy#opt-out",
    )  # fmt: skip
    values = {"name": "데모 고객 0001", "plaza_name": "KT 플라자 광화문역점", "plaza_address": "서울 종로구",
              "centre_name": "종로 디지털배움터", "centre_address": "서울 종로구", "discount": "10%"}  # fmt: skip
    message = compliance.render(compliance.DEFAULT_TEMPLATES["email_standard"], SENDER, values)
    result = channel.send("demo-00001@example.com", message)
    assert result.ok and result.provider_id
    mail_from, rcpts, raw = inbox.messages[0]
    assert mail_from == "retention@example.com" and rcpts == ["demo-00001@example.com"]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "(광고) 데모 고객 0001님을 위한 무료 디지털 교육과 요금 할인 안내"
    assert "=?utf-8?" in raw.decode("ascii").split("Subject:")[1].splitlines()[0].lower()  # encoded header
    assert "<http://localhost:8501/privacy#opt-out>" in msg["List-Unsubscribe"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",)).get_content()
    assert (
        text.startswith("(광고)멀티텔레콤 리텐션팀(데모)")
        and "개인정보 처리방침: http://localhost:8501/privacy" in text
    )
    assert "무료수신거부" in text.splitlines()[-1] and "KT 플라자 광화문역점" in html_part


def test_smtp_refusal_is_a_failure_with_the_server_code(smtp_server) -> None:
    controller, inbox, client_ctx = smtp_server

    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 no such user"

    inbox.handle_RCPT = refuse
    channel = SmtpEmailChannel("127.0.0.1", controller.port, "retention@example.com",
                               tls_context=client_ctx)  # fmt: skip
    result = channel.send("nobody@example.com", {"subject": "(광고) x", "body": "y"})
    assert not result.ok and result.error_code == "550"


# -- Twilio --------------------------------------------------------------------------------
def twilio_stub(script: dict[str, list[int]]) -> JsonStub:
    """Answers POST /2010-04-01/Accounts/<sid>/Messages.json like Twilio; checks auth and fields.

    ``script`` maps a recipient to the statuses to answer in turn (default 201).
    """

    def respond(req):
        auth = base64.b64decode(req["headers"]["Authorization"].split()[1]).decode()
        if req["path"] != f"/2010-04-01/Accounts/{SID}/Messages.json" or auth != f"{SID}:{TOKEN}":
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        statuses = script.get(req["form"].get("To"), [])
        status = statuses.pop(0) if statuses else 201
        if status == 201:
            sid = f"SM{len(stub.requests):032d}"
            return 201, {"sid": sid, "status": "queued", "to": req["form"]["To"], "body": req["form"]["Body"]}
        code = {400: 21211, 429: 20429, 500: 20500}[status]
        return status, {"code": code, "message": f"stub error {status}", "status": status}

    stub = JsonStub(respond)
    return stub


def test_twilio_client_retries_rate_limits_and_records_errors(wh) -> None:
    ids = pd.DataFrame({"customer_id": ["A", "B", "C", "D"]})
    book = contacts.demo_contacts(ids, gus=("종로구",)).assign(
        is_demo=False, sms_consent=True, opted_out=False,
        phone_e164=["+821023456781", "+821023456782", "+821023456783", "+821023456784"],
    )  # fmt: skip
    consented(wh, book)
    script = {"+821023456782": [429, 201], "+821023456783": [400], "+821023456784": [500, 500, 500, 500]}
    clock = Clock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=KST))
    with twilio_stub(script) as stub:
        channel = TwilioSmsChannel(SID, TOKEN, from_number="+15005550006", base_url=stub.url)
        outreach.plan(wh, "tw", pd.DataFrame({"customer_id": ids["customer_id"], "risk_tier": "very_high"}), "sms",
                      0.0, "kim", clock())  # fmt: skip
        counts = outreach.send(
            wh, "tw", channel, SENDER, book, {}, SendOptions(attempts=4, sleep=clock.sleep, now=clock)
        )
    assert counts["sent"] == 2 and counts["failed"] == 2
    first = stub.requests[0]
    assert (
        first["method"] == "POST" and first["form"]["From"] == "+15005550006" and first["form"]["To"] == "+821023456781"
    )
    assert first["form"]["Body"].startswith("(광고)") and "무료수신거부" in first["form"]["Body"]
    led = outreach.ledger(wh, "tw").set_index("customer_id")
    assert led.loc["B", "status"] == "sent" and led.loc["B", "attempts"] == 1  # 429 retried inside one claim
    assert (led.loc["C", "status"], led.loc["C", "error_code"]) == ("failed", "21211")  # invalid number: no retry
    assert (led.loc["D", "status"], led.loc["D", "error_code"]) == ("failed", "20500")  # gave up after 4 tries
    assert sum(r["form"]["To"] == "+821023456784" for r in stub.requests) == 4
    assert led.loc["A", "provider_id"].startswith("SM") and led.loc["A", "template_id"] == "sms_urgent"
