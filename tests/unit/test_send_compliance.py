"""Compliance at the moment of sending: every message is checked against the sender details of the
moment, a campaign's template text is stored with it (no local file needed), a missing text holds the
campaign as a whole, and a custom template never shadows a shipped one."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pandas as pd
import pytest

from churn_core.outreach import campaigns as outreach
from churn_core.outreach import compliance
from churn_core.outreach.campaigns import SendOptions
from churn_core.outreach.compliance import DEFAULT_TEMPLATES, Template
from tests.helpers.outreach_doubles import DAY, SENDER, Clock, FakeProvider, consented

pytestmark = pytest.mark.unit

#: A compliant edited template that writes the sender's details out instead of using placeholders.
LITERAL = Template(
    "edited",
    "sms",
    "(광고)멀티텔레콤 리텐션팀(데모)\n{name}님, 무료 스마트폰 교실에 오세요.\n"
    "문의 02-0000-0000\n무료수신거부 080-000-0000",
)


def _book(n: int) -> pd.DataFrame:
    ids = [f"K{i:03d}" for i in range(n)]
    return pd.DataFrame({"customer_id": ids, "name": [f"고객{i}" for i in range(n)],
                         "phone_e164": [f"+8210777{i:05d}" for i in range(n)], "email": None,
                         "preferred_channel": "sms", "gu": None, "is_demo": False, "sms_consent": True})  # fmt: skip


def _plan(store, campaign: str, book: pd.DataFrame, folder, template: Template = LITERAL) -> str:
    template_id = compliance.save_template(folder, template)
    audience = book[["customer_id"]].assign(risk_tier="high")
    outreach.plan(store, campaign, audience, "sms", 0.0, "kim", DAY, template_id,
                  templates=compliance.load_templates(folder))  # fmt: skip
    return template_id


def test_a_sender_change_after_planning_holds_every_row_and_sends_nothing(store, tmp_path) -> None:
    book = consented(store, _book(6))
    assert compliance.template_problems(LITERAL, SENDER) == []  # compliant when planned
    _plan(store, "moved", book, tmp_path / "templates")
    moved = dataclasses.replace(SENDER, opt_out_phone="080-123-4567")  # the opt-out number changed since
    assert outreach.dry_run(store, "moved", "sms", book, True, DAY, moved).to_dict("records") == [
        {"decision": "hold", "reason": "template_noncompliant", "n": 6}
    ]
    clock, provider = Clock(DAY), FakeProvider()
    counts = outreach.send(store, "moved", provider, moved, book, {}, SendOptions(sleep=clock.sleep, now=clock))
    assert counts["held"] == 6 and counts["sent"] == 0 and provider.sent == []
    led = outreach.ledger(store, "moved")
    assert set(led["status"]) == {"queued"} and set(led["reason"]) == {"template_noncompliant"}
    assert (led["attempts"] == 0).all()  # never claimed
    # fixed back (or re-planned with a template that uses {opt_out}): the held rows go out
    counts = outreach.send(store, "moved", provider, SENDER, book, {}, SendOptions(sleep=clock.sleep, now=clock))
    assert counts["sent"] == 6 and all(body.endswith("080-000-0000") for _, body in provider.sent)


def test_a_resumed_campaign_uses_its_stored_text_not_the_local_file(store, tmp_path) -> None:
    book = consented(store, _book(4))
    folder = tmp_path / "templates"
    template_id = _plan(store, "resume", book, folder)
    assert template_id.startswith("custom-")
    shutil.rmtree(folder)  # the app moved to another machine, or the file was deleted
    clock, provider = Clock(DAY), FakeProvider()
    counts = outreach.send(store, "resume", provider, SENDER, book, {}, SendOptions(sleep=clock.sleep, now=clock))
    assert counts["sent"] == 4 and all("무료 스마트폰 교실" in body for _, body in provider.sent)
    stored = outreach.campaign_templates(store, "resume", "sms")
    assert stored[template_id].body == LITERAL.body


def test_a_campaign_whose_template_text_is_nowhere_is_held_as_a_whole(store) -> None:
    book = consented(store, _book(5))
    rows = pd.DataFrame({
        "campaign_id": "legacy", "customer_id": book["customer_id"], "channel": "sms", "is_control": False,
        "status": "queued", "reason": None, "error_code": None, "template_id": "custom-0123456789", "recipient": None,
        "triggered_by": "kim", "attempts": 0, "provider_id": None, "created_at": DAY, "updated_at": DAY,
        "scheduled_for": None,
    })  # fmt: skip
    store.append_rows("outbox", rows)  # planned by an older version: no stored text, and the file is gone
    summary = outreach.dry_run(store, "legacy", "sms", book, True, DAY, SENDER)
    assert summary.to_dict("records") == [{"decision": "hold", "reason": "template_missing", "n": 5}]
    clock, provider = Clock(DAY), FakeProvider()
    for _ in range(2):  # every click: one message, nobody marked failed
        with pytest.raises(outreach.TemplateMissingError, match="custom-0123456789"):
            outreach.send(store, "legacy", provider, SENDER, book, {}, SendOptions(sleep=clock.sleep, now=clock))
    led = outreach.ledger(store, "legacy")
    assert set(led["status"]) == {"queued"} and (led["attempts"] == 0).all() and provider.sent == []


def test_a_custom_template_never_shadows_a_shipped_id(store, tmp_path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    body = "(광고)x\n{name}님 클릭 http://evil.example\n무료수신거부 http://evil.example"
    evil = {"template_id": "sms_standard", "channel": "sms", "body": body, "subject": ""}
    (folder / "custom-evil.json").write_text(json.dumps(evil, ensure_ascii=False), encoding="utf-8")
    (folder / "custom-broken.json").write_text("{not json", encoding="utf-8")
    loaded = compliance.load_templates(folder)
    assert loaded["sms_standard"] == DEFAULT_TEMPLATES["sms_standard"]
    (custom,) = [t for t in loaded.values() if "evil.example" in t.body]
    assert custom.template_id == compliance.custom_id(custom) and custom.template_id.startswith("custom-")
    # saving a template that claims a shipped id gives it its own content id
    claimed = dataclasses.replace(LITERAL, template_id="sms_urgent")
    assert compliance.save_template(folder, claimed) == compliance.custom_id(claimed)
    assert compliance.save_template(folder, DEFAULT_TEMPLATES["sms_urgent"]) == "sms_urgent"  # unchanged text
    # a plan handed a shadowing text stores the shipped one
    book = _book(2)
    outreach.plan(store, "shadow", book[["customer_id"]].assign(risk_tier="high"), "sms", 0.0, "kim", DAY,
                  "sms_standard", templates={"sms_standard": Template("sms_standard", "sms", body)})  # fmt: skip
    assert outreach.campaign_templates(store, "shadow", "sms")["sms_standard"] == DEFAULT_TEMPLATES["sms_standard"]


def test_an_opt_out_recorded_while_a_campaign_is_sending_stops_the_later_messages(store) -> None:
    from churn_core.outreach import consent

    book = consented(store, _book(15))
    outreach.plan(store, "live", book[["customer_id"]].assign(risk_tier="high"), "sms", 0.0, "kim", DAY)
    clock = Clock(DAY)

    class ClickingProvider(FakeProvider):
        def send(self, recipient, message):
            if not self.sent:  # while the first message goes out, K012 clicks an unsubscribe link
                consent.record_opt_out(store, "K012", "unsubscribe_link", "token t9", occurred_at=clock())
            return super().send(recipient, message)

    provider = ClickingProvider()
    counts = outreach.send(store, "live", provider, SENDER, book, {}, SendOptions(rate_per_s=5, sleep=clock.sleep,
                                                                                 now=clock))  # fmt: skip
    assert counts["sent"] == 14 and counts["skipped"] == 1
    assert "+821077700012" not in [r for r, _ in provider.sent]
    assert outreach.ledger(store, "live").set_index("customer_id").loc["K012", "reason"] == "opted_out"
