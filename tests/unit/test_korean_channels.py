"""The Korean channels (SOLAPI SMS/LMS, KakaoTalk 알림톡 and 브랜드 메시지): the real ``solapi`` SDK over HTTP
to a local stub on 127.0.0.1 (tests.helpers.solapi_stub), alone and through the ledger (campaigns.send)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from churn_core.config import Settings
from churn_core.outreach import campaigns as outreach
from churn_core.outreach import compliance, contacts, korean
from churn_core.outreach.campaigns import OutboxOnlyChannel, SendOptions, TransientSendError
from churn_core.outreach.korean import (
    KakaoAlimtalkChannel,
    KakaoBrandChannel,
    RefusingChannel,
    SenderNotRegisteredError,
    SolapiSmsChannel,
)
from tests.helpers.outreach_doubles import DAY, NIGHT, SENDER, Clock, consented
from tests.helpers.solapi_stub import API_KEY, API_SECRET, SEND_PATH, SolapiStub

pytestmark = pytest.mark.unit

SENDER_NUMBER, REGISTERED = "02-0000-0000", ["0200000000", "0800000000"]
CODES = {"alimtalk_notice": "KA01TP2611230000000000000001"}
MOBILES = [f"+8210234567{i:02d}" for i in range(1, 7)]


def _domestic(e164: str) -> str:
    return "0" + e164[3:]


def _channel(kind: str, url: str, **kw):
    common = (API_KEY, kw.pop("secret", API_SECRET), kw.pop("sender", SENDER_NUMBER), REGISTERED)
    if kind == "sms_kr":
        return SolapiSmsChannel(*common, base_url=url)
    if kind == "alimtalk":
        return KakaoAlimtalkChannel(*common, "PF-TEST", kw.pop("codes", CODES), base_url=url)
    return KakaoBrandChannel(*common, "PF-TEST", base_url=url)


def _book(store, n: int = 4, **columns) -> pd.DataFrame:
    """A non-demo book of ``n`` contacts with SMS consent recorded 30 days before DAY (columns override)."""
    ids = pd.DataFrame({"customer_id": [f"K{i}" for i in range(n)]})
    book = contacts.demo_contacts(ids, gus=("종로구",)).assign(
        is_demo=False, sms_consent=True, email_consent=False, night_consent=False, opted_out=False,
        phone_e164=MOBILES[:n],
    ).assign(**columns)  # fmt: skip
    return consented(store, book)


def _plan(store, campaign: str, channel: str, book: pd.DataFrame, now, template_id=None) -> None:
    audience = pd.DataFrame({"customer_id": book["customer_id"], "risk_tier": "high"})
    outreach.plan(store, campaign, audience, channel, 0.0, "kim", now, template_id)


def _send(store, campaign, channel, book, clock, attempts=4):
    return outreach.send(store, campaign, channel, SENDER, book, {},
                         SendOptions(attempts=attempts, sleep=clock.sleep, now=clock))  # fmt: skip


# -- request shape and authentication ------------------------------------------------------
def test_sms_and_lms_go_with_the_registered_sender_and_a_valid_hmac_signature() -> None:
    short, long_body = "(광고)멀티텔레콤 안내", "(광고)멀티텔레콤 리텐션팀\n" + "가" * 60
    with SolapiStub() as stub:
        channel = _channel("sms_kr", stub.url)
        first = channel.send(MOBILES[0], {"subject": "", "body": short})
        second = channel.send(MOBILES[1], {"subject": "(광고) 무료 스마트폰 교실 안내", "body": long_body})
    assert first.ok and second.ok and first.provider_id != second.provider_id
    assert all(r["method"] == "POST" and r["path"] == SEND_PATH and r["signed"] for r in stub.requests)
    auth = stub.requests[0]["headers"]["Authorization"]
    assert auth.startswith(f"HMAC-SHA256 ApiKey={API_KEY}, Date=") and "salt=" in auth and "signature=" in auth
    sms, lms = stub.sent()
    assert (sms["type"], sms["from"], sms["to"], sms["text"]) == ("SMS", "0200000000", "01023456701", short)
    assert "subject" not in sms and sms["autoTypeDetect"] is False
    assert (lms["type"], lms["subject"], lms["text"]) == ("LMS", "(광고) 무료 스마트폰 교실 안내", long_body)


def test_sms_or_lms_by_euc_kr_bytes_and_a_long_subject_is_cut_to_40_bytes() -> None:
    assert korean.sms_type("가" * 45) == "SMS" and korean.sms_type("가" * 46) == "LMS"  # 2 bytes per 한글
    assert korean.sms_type("a" * 90) == "SMS" and korean.sms_type("a" * 91) == "LMS"
    assert korean.euc_kr_bytes("😀") == 2  # not in EUC-KR: counted as 2
    with SolapiStub() as stub:
        _channel("sms_kr", stub.url).send(MOBILES[0], {"subject": "", "body": "제목줄입니다" * 10 + "\n" + "나" * 50})
    subject = stub.sent()[0]["subject"]
    assert korean.euc_kr_bytes(subject) <= 40 and subject.startswith("제목줄입니다")


def test_a_wrong_secret_is_refused_by_the_api_and_not_retried() -> None:
    with SolapiStub() as stub:
        result = _channel("sms_kr", stub.url, secret="not-the-secret").send(MOBILES[0], {"subject": "", "body": "x"})
    assert not result.ok and result.error_code == "SignatureDoesNotMatch"
    assert len(stub.requests) == 1 and not stub.requests[0]["signed"]


def test_alimtalk_carries_pf_id_and_the_approved_code_and_brand_the_bms_options() -> None:
    notice = compliance.render(compliance.DEFAULT_TEMPLATES["alimtalk_notice"], SENDER, {"name": "김영희"})
    offer = compliance.render(compliance.DEFAULT_TEMPLATES["brand_standard"], SENDER, {"name": "김영희"})
    with SolapiStub() as stub:
        ok_a = _channel("alimtalk", stub.url).send(MOBILES[0], {**notice, "template_id": "alimtalk_notice"})
        ok_b = _channel("brand", stub.url).send(MOBILES[1], {**offer, "template_id": "brand_standard"})
    assert ok_a.ok and ok_b.ok
    ata, bms = stub.sent()
    assert ata["type"] == "ATA" and ata["text"] == notice["body"] and ata["from"] == "0200000000"
    assert ata["kakaoOptions"] == {"pfId": "PF-TEST", "templateId": CODES["alimtalk_notice"], "disableSms": True}
    assert bms["type"] == "BMS_FREE" and bms["text"].startswith("(광고)")
    assert bms["kakaoOptions"]["pfId"] == "PF-TEST"
    assert bms["kakaoOptions"]["bms"] == {"targeting": "I", "chatBubbleType": "TEXT"}


# -- errors, retries, idempotency through the ledger ----------------------------------------
def test_errors_map_to_ledger_codes_and_retries_are_bounded(store) -> None:
    book = _book(store, 6)
    script = {"01023456702": [429, 200], "01023456703": [400], "01023456704": [500, 500, 500, 500],
              "01023456705": ["refused"], "01023456706": ["drop"]}  # fmt: skip
    clock = Clock(DAY)
    with SolapiStub(script) as stub:
        _plan(store, "kr-err", "sms_kr", book, clock())
        counts = _send(store, "kr-err", _channel("sms_kr", stub.url), book, clock, attempts=4)
    assert counts["sent"] == 2 and counts["failed"] == 4
    led = outreach.ledger(store, "kr-err").set_index("customer_id")
    assert led.loc["K0", "provider_id"].startswith("M4V") and led.loc["K0", "recipient"] == MOBILES[0]
    assert (led.loc["K1", "status"], led.loc["K1", "attempts"]) == ("sent", 1)  # 429 retried inside one claim
    assert len(stub.sent("01023456702")) == 2
    assert (led.loc["K2", "status"], led.loc["K2", "error_code"]) == ("failed", "ValidationError")
    assert len(stub.sent("01023456703")) == 1  # a 4xx is not retried
    assert (led.loc["K3", "status"], led.loc["K3", "error_code"]) == ("failed", "UnknownError")
    assert len(stub.sent("01023456704")) == 4  # gave up after SendOptions.attempts
    assert (led.loc["K4", "error_code"], len(stub.sent("01023456705"))) == ("1062", 1)  # not accepted by SOLAPI
    assert (led.loc["K5", "error_code"], len(stub.sent("01023456706"))) == ("unknown_outcome", 1)  # never resent


def test_transient_errors_raise_for_the_ledger_to_retry() -> None:
    with SolapiStub({"01023456701": [500], "01023456702": [429]}) as stub:
        channel = _channel("brand", stub.url)
        for mobile, code in ((MOBILES[0], "UnknownError"), (MOBILES[1], "TooManyRequests")):
            with pytest.raises(TransientSendError) as caught:
                channel.send(mobile, {"subject": "", "body": "(광고) x"})
            assert caught.value.code == code
    with pytest.raises(TransientSendError) as refused:  # nothing listens there: nothing reached SOLAPI
        _channel("sms_kr", stub.url).send(MOBILES[0], {"subject": "", "body": "x"})
    assert refused.value.code == "connection"


def test_a_row_is_sent_once_however_often_send_runs(store) -> None:
    book = _book(store, 2)
    clock = Clock(DAY)
    with SolapiStub({"01023456702": [503, 200]}) as stub:
        channel = _channel("sms_kr", stub.url)
        _plan(store, "kr-once", "sms_kr", book, clock())
        first = _send(store, "kr-once", channel, book, clock)
        again = _send(store, "kr-once", channel, book, clock)
        _plan(store, "kr-once", "sms_kr", book, clock())  # planning again adds nothing
        third = _send(store, "kr-once", channel, book, clock)
    assert first["sent"] == 2 and again["sent"] == third["sent"] == 0
    assert len(stub.sent("01023456701")) == 1 and len(stub.sent("01023456702")) == 2  # one retry, one message
    led = outreach.ledger(store, "kr-once")
    assert len(led) == 2 and set(led["status"]) == {"sent"} and set(led["attempts"]) == {1}


# -- what is never sent ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sms_kr", "alimtalk", "brand"])
def test_demo_contacts_never_reach_solapi(store, kind) -> None:
    book = _book(store, 3, is_demo=True)
    clock = Clock(DAY)
    with SolapiStub() as stub:
        _plan(store, f"demo-{kind}", kind, book, clock())
        counts = _send(store, f"demo-{kind}", _channel(kind, stub.url), book, clock)
    assert counts["skipped"] == 3 and counts["sent"] == 0 and stub.requests == []
    assert set(outreach.ledger(store, f"demo-{kind}")["reason"]) == {"demo_contact"}


def test_a_missing_or_unregistered_sender_is_refused(store) -> None:
    for sender in (None, "", "02-9999-9999"):
        with pytest.raises(SenderNotRegisteredError, match="sender number"):
            SolapiSmsChannel(API_KEY, API_SECRET, sender, REGISTERED)
    settings = Settings(solapi_api_key=API_KEY, solapi_api_secret=API_SECRET, solapi_sender_number="02-9999-9999",
                        solapi_registered_senders=REGISTERED)  # fmt: skip
    book = _book(store, 2)
    clock = Clock(DAY)
    with SolapiStub() as stub:
        channel = outreach.channel_from_settings("sms_kr", settings.model_copy(update={"solapi_base_url": stub.url}))
        assert isinstance(channel, RefusingChannel) and channel.real
        _plan(store, "kr-sender", "sms_kr", book, clock())
        counts = _send(store, "kr-sender", channel, book, clock)
    assert counts["held"] == 2 and counts["sent"] == 0 and stub.requests == []
    led = outreach.ledger(store, "kr-sender")
    assert set(led["status"]) == {"queued"} and set(led["reason"]) == {"sender_not_registered"}  # goes once fixed


def test_alimtalk_without_an_approved_template_code_is_held(store) -> None:
    book = _book(store, 2)
    clock = Clock(DAY)
    with SolapiStub() as stub:
        _plan(store, "at-nocode", "alimtalk", book, clock())
        unapproved = _channel("alimtalk", stub.url, codes={})
        look = outreach.send_outlook(store, "at-nocode", "alimtalk", book, True, clock(), SENDER, {},
                                     channel=unapproved)  # fmt: skip
        assert (look.go_now, look.held) == (0, 2)  # the dry run says so before anything is claimed
        assert set(look.table["reason"]) == {"template_not_approved"}
        counts = _send(store, "at-nocode", unapproved, book, clock)
        settings = Settings(solapi_api_key=API_KEY, solapi_api_secret=API_SECRET, solapi_sender_number=SENDER_NUMBER,
                            solapi_registered_senders=REGISTERED, solapi_base_url=stub.url)  # fmt: skip
        no_pf = outreach.channel_from_settings("alimtalk", settings)
    assert counts["held"] == 2 and stub.requests == []
    assert set(outreach.ledger(store, "at-nocode")["reason"]) == {"template_not_approved"}
    assert isinstance(no_pf, RefusingChannel) and no_pf.reason == "kakao_channel_missing"
    with pytest.raises(ValueError, match="pfId"):
        KakaoAlimtalkChannel(API_KEY, API_SECRET, SENDER_NUMBER, REGISTERED, "", CODES)


def test_alimtalk_never_carries_advertising(store) -> None:
    advert = compliance.DEFAULT_TEMPLATES["sms_standard"]
    as_alimtalk = compliance.Template("ad-as-alimtalk", "alimtalk", advert.body)
    assert any("informational" in p for p in compliance.template_problems(as_alimtalk, SENDER))
    assert compliance.template_problems(compliance.DEFAULT_TEMPLATES["alimtalk_notice"], SENDER) == []
    no_discount_word = compliance.Template("x", "alimtalk", "[{sender}] {sender_phone} 안내: 요금 {discount} 인하")
    assert compliance.template_problems(no_discount_word, SENDER)
    book = _book(store, 2)
    clock = Clock(DAY)
    with SolapiStub() as stub:  # even with an approved code, an advertising text is held, never sent
        _plan(store, "at-ad", "alimtalk", book, clock(), template_id="sms_standard")
        counts = _send(store, "at-ad", _channel("alimtalk", stub.url, codes={"sms_standard": "KA01"}), book, clock)
    assert counts["held"] == 2 and stub.requests == []
    assert set(outreach.ledger(store, "at-ad")["reason"]) == {"template_noncompliant"}


@pytest.mark.parametrize("kind", ["sms_kr", "alimtalk", "brand"])
def test_quiet_hours_consent_and_opt_out_apply_to_every_korean_channel(store, kind) -> None:
    book = _book(store, 4, sms_consent=[True, False, True, False], email_consent=[False, False, False, True],
                 opted_out=[False, False, True, False])  # fmt: skip
    clock = Clock(NIGHT)
    with SolapiStub() as stub:
        channel = _channel(kind, stub.url)
        _plan(store, f"rules-{kind}", kind, book, clock())
        night = _send(store, f"rules-{kind}", channel, book, clock)
        assert stub.requests == [] and night["held"] == 1  # K0 waits for 08:00 KST
        clock.t = (DAY + dt.timedelta(days=1)).astimezone(dt.UTC)
        morning = _send(store, f"rules-{kind}", channel, book, clock)
    assert morning["sent"] == 1 and [m["to"] for m in stub.sent()] == ["01023456701"]
    reasons = outreach.ledger(store, f"rules-{kind}").set_index("customer_id")["reason"]
    # e-mail consent does not count on a phone channel; an opt-out stops every channel
    assert (reasons["K1"], reasons["K2"], reasons["K3"]) == ("no_consent", "opted_out", "no_consent")


def test_phone_channels_use_the_sms_consent_when_choosing_the_audience() -> None:
    at_risk = pd.DataFrame({"customer_id": ["A", "B"], "risk_tier": "high", "churn_probability": [0.9, 0.8]})
    customers = pd.DataFrame({"customer_id": ["A", "B"], "age_group": "65-74", "segment": 0})
    book = pd.DataFrame({"customer_id": ["A", "B"], "name": ["가", "나"], "gu": "종로구", "opted_out": False,
                         "sms_consent": [True, False], "email_consent": [False, True],
                         "sms_consent_at": pd.Timestamp("2026-10-01", tz="UTC"),
                         "email_consent_at": pd.Timestamp("2026-10-01", tz="UTC")})  # fmt: skip
    now = DAY.astimezone(dt.UTC)
    for kind in ("sms", "sms_kr", "alimtalk", "brand"):
        assert list(outreach.build_audience(at_risk, customers, book, kind, now=now)["customer_id"]) == ["A"]
    assert list(outreach.build_audience(at_risk, customers, book, "email", now=now)["customer_id"]) == ["B"]
    with pytest.raises(ValueError, match="unknown channel"):
        outreach.build_audience(at_risk, customers, book, "fax", now=now)


def test_without_solapi_keys_the_korean_channels_record_only() -> None:
    settings = Settings(solapi_api_key=None, solapi_api_secret=None)
    for kind in ("sms_kr", "alimtalk", "brand"):
        channel = outreach.channel_from_settings(kind, settings)
        assert isinstance(channel, OutboxOnlyChannel) and not channel.real and channel.name == kind
    assert set(contacts.CAMPAIGN_CHANNELS) == {"sms", "sms_kr", "alimtalk", "brand", "email"}
    assert set(Settings().message_cost_usd) == set(contacts.CAMPAIGN_CHANNELS)
    with pytest.raises(ValueError, match="negative"):
        Settings(message_cost_usd={"sms": -1.0})


def test_each_new_channel_has_compliant_shipped_templates_for_every_tier() -> None:
    for kind in ("sms_kr", "alimtalk", "brand"):
        by_tier = compliance.risk_templates(compliance.DEFAULT_TEMPLATES, kind)
        assert {t.channel for t in by_tier.values()} == {kind}
        assert all(compliance.template_problems(t, SENDER) == [] for t in by_tier.values())
