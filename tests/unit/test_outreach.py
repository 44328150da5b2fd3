"""Outreach rules and ledger: consent, opt-out, quiet hours, templates, idempotency, crash and resume."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from churn_core.outreach import campaigns as outreach
from churn_core.outreach import compliance, consent, contacts
from churn_core.outreach.campaigns import OutboxOnlyChannel, SendOptions
from churn_core.outreach.compliance import DEFAULT_TEMPLATES, KST, Template
from tests.helpers.outreach_doubles import DAY, NIGHT, SENDER, Clock, FakeProvider, consented

pytestmark = pytest.mark.unit


def _book(n=12, **overrides) -> pd.DataFrame:
    ids = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(n)]})
    book = contacts.demo_contacts(ids, gus=("종로구",)).assign(
        is_demo=False, sms_consent=True, email_consent=True, opted_out=False, night_consent=False,
        phone_e164=[f"+8210{5000 + i:04d}{i:04d}" for i in range(n)],
    )  # fmt: skip
    for col, value in overrides.items():
        book[col] = value
    return book


def _audience(book) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": book["customer_id"], "risk_tier": "high"})


def test_templates_must_carry_ad_mark_sender_contact_and_opt_out() -> None:
    for template in DEFAULT_TEMPLATES.values():
        assert compliance.template_problems(template, SENDER) == [], template.template_id
    bad = Template("x", "sms", "{name}님 할인 안내입니다.")
    problems = " ".join(compliance.template_problems(bad, SENDER))
    assert "(광고)" in problems and "02-0000-0000" in problems and "무료수신거부" in problems
    no_privacy = Template("e", "email", "(광고){sender}\n안내 {sender_phone}\n무료수신거부 {opt_out}", subject="안내")
    problems = compliance.template_problems(no_privacy, SENDER)
    assert any("subject" in p for p in problems) and any("privacy" in p for p in problems)
    assert "unknown placeholders" in compliance.template_problems(Template("y", "sms", "{password}"), SENDER)[0]


def test_quiet_hours_in_korean_time() -> None:
    assert not compliance.quiet_hours(DAY) and compliance.quiet_hours(NIGHT)
    assert compliance.quiet_hours(dt.datetime(2026, 11, 23, 7, 59, tzinfo=KST))
    assert not compliance.quiet_hours(dt.datetime(2026, 11, 23, 8, 0, tzinfo=KST))
    assert compliance.next_allowed(NIGHT) == dt.datetime(2026, 11, 24, 8, 0, tzinfo=KST)
    early = dt.datetime(2026, 11, 24, 3, 0, tzinfo=KST)
    assert compliance.next_allowed(early) == dt.datetime(2026, 11, 24, 8, 0, tzinfo=KST)


def test_send_is_idempotent_and_respects_consent_at_send_time(wh) -> None:
    book = _book(opted_out=[False] * 11 + [True])
    book.loc[3, "sms_consent"] = False
    consented(wh, book)
    clock = Clock(DAY)
    first = outreach.plan(wh, "c1", _audience(book), "sms", 0.0, "kim", clock())
    assert first == {"added": 12, "already_planned": 0, "control": 0}
    assert outreach.plan(wh, "c1", _audience(book), "sms", 0.0, "kim", clock())["added"] == 0  # double click
    consent.record_opt_out(wh, "C005", "staff", "by phone", occurred_at=clock())  # after the audience was chosen
    provider = FakeProvider()
    opts = SendOptions(rate_per_s=10, sleep=clock.sleep, now=clock)
    counts = outreach.send(wh, "c1", provider, SENDER, book, {}, opts)
    assert counts["sent"] == 9 and counts["skipped"] == 3
    assert clock() - DAY >= dt.timedelta(seconds=9 / 10)  # the per-campaign rate limit (10/s) paced the sends
    again = outreach.send(wh, "c1", provider, SENDER, book, {}, opts)  # rerun / second press
    assert again["sent"] == 0 and len(provider.sent) == 9
    led = outreach.ledger(wh, "c1").set_index("customer_id")
    assert led.loc["C003", "reason"] == "no_consent" and led.loc["C005", "reason"] == "opted_out"
    assert led.loc["C011", "reason"] == "opted_out" and (led["triggered_by"] == "kim").all()
    sent = led[led["status"] == "sent"]
    assert sent["provider_id"].str.startswith("SM").all() and (sent["attempts"] == 1).all()
    assert all(
        body.startswith("(광고)") and body.splitlines()[-1].startswith("무료수신거부") for _, body in provider.sent
    )


def test_quiet_hours_hold_until_eight_unless_night_consent(wh) -> None:
    book = consented(wh, _book(4, night_consent=[True, False, False, False]))
    clock = Clock(NIGHT)
    outreach.plan(wh, "night", _audience(book), "sms", 0.0, "kim", clock())
    provider = FakeProvider()
    opts = SendOptions(sleep=clock.sleep, now=clock)
    counts = outreach.send(wh, "night", provider, SENDER, book, {}, opts)
    assert counts["sent"] == 1 and counts["held"] == 3
    held = outreach.ledger(wh, "night").query("status == 'queued'")
    assert (held["scheduled_for"] == pd.Timestamp("2026-11-24 08:00", tz=KST)).all()
    assert outreach.send(wh, "night", provider, SENDER, book, {}, opts)["sent"] == 0  # still night: not yet due
    clock.t = dt.datetime(2026, 11, 24, 8, 0, 30, tzinfo=KST).astimezone(dt.UTC)
    assert outreach.send(wh, "night", provider, SENDER, book, {}, opts)["sent"] == 3  # held, not dropped


def test_crash_mid_campaign_resumes_without_repeating(wh) -> None:
    book = consented(wh, _book(10))
    clock = Clock(DAY)
    outreach.plan(wh, "crash", _audience(book), "sms", 0.0, "kim", clock())
    opts = SendOptions(sleep=clock.sleep, now=clock)
    crashing = FakeProvider(crash_after=4)
    with pytest.raises(KeyboardInterrupt):
        outreach.send(wh, "crash", crashing, SENDER, book, {}, opts)
    statuses = outreach.ledger(wh, "crash")["status"].value_counts().to_dict()
    assert statuses == {"sent": 4, "sending": 1, "queued": 5}
    restarted = FakeProvider()
    early = outreach.send(wh, "crash", restarted, SENDER, book, {}, opts)  # the row may still be in flight
    assert early["unknown_outcome"] == 0 and early["sent"] == 5
    clock.sleep(opts.sending_timeout_s + 1)  # past the timeout: a crash, recovered once, never resent
    counts = outreach.send(wh, "crash", restarted, SENDER, book, {}, opts)
    assert counts == {"sent": 0, "recorded": 0, "failed": 0, "skipped": 0, "held": 0, "unknown_outcome": 1}
    everyone = [r for r, _ in crashing.sent + restarted.sent]
    assert len(everyone) == len(set(everyone)) == 9  # nobody got two messages
    led = outreach.ledger(wh, "crash")
    assert (led["status"] == "failed").sum() == 1 and led.loc[
        led["status"] == "failed", "reason"
    ].item() == "unknown_outcome"


def test_failures_are_recorded_and_do_not_stop_the_rest(wh) -> None:
    book = consented(wh, _book(5))
    clock = Clock(DAY)
    outreach.plan(wh, "f", _audience(book), "sms", 0.0, "kim", clock())
    provider = FakeProvider(fail_for={book.loc[1, "phone_e164"]})
    counts = outreach.send(wh, "f", provider, SENDER, book, {}, SendOptions(sleep=clock.sleep, now=clock))
    assert counts["sent"] == 4 and counts["failed"] == 1
    failed = outreach.ledger(wh, "f").query("status == 'failed'").iloc[0]
    assert failed["error_code"] == "21211" and failed["customer_id"] == "C001"


def test_control_group_is_held_out(wh) -> None:
    ids = wh.query("SELECT customer_id FROM {customers} WHERE is_senior ORDER BY customer_id LIMIT 400")
    book = consented(wh, contacts.demo_contacts(ids, gus=("종로구",)))
    clock = Clock(DAY)
    summary = outreach.plan(wh, "ctl", _audience(book), "email", 0.2, "kim", clock())
    assert 50 < summary["control"] < 110  # about 20 % of 400
    counts = outreach.send(
        wh, "ctl", OutboxOnlyChannel("email"), SENDER, book, {}, SendOptions(sleep=clock.sleep, now=clock)
    )
    assert counts["sent"] == 0 and counts["recorded"] > 0  # outbox only: rendered and recorded, not sent
    led = outreach.ledger(wh, "ctl")
    assert (led.loc[led["is_control"], "reason"] == "control_group").all()
    assert set(led.loc[~led["is_control"], "status"]) <= {"recorded", "skipped"}
    assert len(led) == 400 and int(led["is_control"].sum()) == summary["control"]  # measured by outreach.outcomes


def test_demo_contacts_never_reach_a_real_provider(wh) -> None:
    book = contacts.demo_contacts(pd.DataFrame({"customer_id": ["C1", "C2"]}), gus=("종로구",)).assign(
        sms_consent=True, opted_out=False, night_consent=True
    )
    assert book["email"].str.endswith("@example.com").all() and book["phone_e164"].str.startswith("+82100000").all()
    clock = Clock(DAY)
    outreach.plan(wh, "demo", _audience(book), "sms", 0.0, "kim", clock())
    provider = FakeProvider()
    counts = outreach.send(wh, "demo", provider, SENDER, book, {}, SendOptions(sleep=clock.sleep, now=clock))
    assert counts["skipped"] == 2 and provider.sent == []
    assert set(outreach.ledger(wh, "demo")["reason"]) == {"demo_contact"}


def test_contact_import_reports_every_bad_row(wh) -> None:
    known = {"7590-VHVEG", "5575-GNVDE", "3668-QPYBK", "7795-CFOCW"}
    csv = (
        "customerID,name,mobile,email,sms_consent,sms_consent_date,email_consent,email_consent_date,opted_out\n"
        "7590-VHVEG,김하나,010-2345-6789,hana@example.com,Y,2026-01-05,Y,2026-01-05,N\n"
        "5575-GNVDE,이둘,02-123-4567,,Y,2026-01-05,N,,N\n"
        "3668-QPYBK,박셋,010-3456-7890,not-an-email,N,,Y,2026-01-05,N\n"
        "0000-NOONE,최넷,010-4567-8901,,Y,,N,,maybe\n"
    ).encode()
    result = contacts.validate_contacts(csv, known)
    assert result.n_rows == 4 and len(result.contacts) == 1 and result.n_rejected == 3
    assert result.contacts.iloc[0]["phone_e164"] == "+821023456789"
    by_line = result.problems.groupby("line")["column"].apply(set).to_dict()
    assert "mobile" in by_line[3]  # a landline is not a mobile
    assert "email" in by_line[4]
    assert {"customerID", "opted_out", "sms_consent_date"} <= by_line[5]
    with pytest.raises(ValueError, match="missing columns"):
        contacts.validate_contacts(b"customerID,name\nx,y\n", known)
