"""Where a campaign stands across send runs: totals from the ledger, what goes now and what is held,
and when quiet-hours holds may go (Korean time)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from churn_core.outreach import campaigns as outreach
from churn_core.outreach import compliance
from churn_core.outreach.campaigns import OutboxOnlyChannel, SendOptions
from churn_core.outreach.compliance import KST, Template
from tests.helpers.outreach_doubles import DAY, NIGHT, SENDER, Clock, consented

pytestmark = pytest.mark.unit

NEXT_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=KST)
EIGHT = dt.datetime(2026, 11, 24, 8, 0, tzinfo=KST)


def _book(n: int, **flags) -> pd.DataFrame:
    ids = [f"T{i:03d}" for i in range(n)]
    book = pd.DataFrame({"customer_id": ids, "name": [f"고객{i}" for i in range(n)],
                         "phone_e164": [f"+8210666{i:05d}" for i in range(n)], "email": None,
                         "preferred_channel": "sms", "gu": None, "is_demo": False, "sms_consent": True,
                         "night_consent": False, "opted_out": False})  # fmt: skip
    for column, value in flags.items():
        book[column] = value
    return book


def _audience(book: pd.DataFrame) -> pd.DataFrame:
    return book[["customer_id"]].assign(risk_tier="high")


def _send(store, campaign: str, book: pd.DataFrame, at: dt.datetime) -> dict[str, int]:
    clock = Clock(at)
    return outreach.send(store, campaign, OutboxOnlyChannel("sms"), SENDER, book, {},
                         SendOptions(sleep=clock.sleep, now=clock))  # fmt: skip


def test_next_send_time_is_now_by_day_and_eight_in_the_morning_by_night() -> None:
    assert outreach.next_send_time(DAY) == DAY and outreach.next_send_time(DAY).tzinfo == KST
    assert outreach.next_send_time(DAY.astimezone(dt.UTC)).utcoffset() == dt.timedelta(hours=9)
    assert outreach.next_send_time(NIGHT) == EIGHT  # 22:30 → next day 08:00
    assert outreach.next_send_time(dt.datetime(2026, 11, 24, 3, 0, tzinfo=KST)) == EIGHT  # 03:00 → same day
    assert outreach.next_send_time(dt.datetime(2026, 11, 24, 8, 0, tzinfo=KST)) == EIGHT
    late = dt.datetime(2026, 11, 23, 20, 59, tzinfo=KST)
    assert outreach.next_send_time(late) == late
    with pytest.raises(ValueError, match="timezone-aware"):
        outreach.next_send_time(dt.datetime(2026, 11, 23, 22, 0))


def test_totals_add_up_every_run_of_a_campaign(store) -> None:
    book = _book(14)
    book.loc[1, "opted_out"] = True
    book.loc[2, "sms_consent"] = False
    consented(store, book, at=DAY - dt.timedelta(days=30))
    first, later = book.iloc[:11], book.iloc[11:]
    assert outreach.campaign_totals(store, "multi", "sms") == outreach.CampaignTotals()  # nothing planned yet
    outreach.plan(store, "multi", _audience(first), "sms", 0.0, "kim", NIGHT)
    waiting = outreach.campaign_totals(store, "multi", "sms")
    assert waiting.waiting == 11 and waiting.total == 11 and waiting.held_until is None

    night = _send(store, "multi", book, NIGHT)  # quiet hours: everyone with consent is held
    assert night["held"] == 9 and night["skipped"] == 2
    totals = outreach.campaign_totals(store, "multi", "sms")
    assert (totals.held, totals.held_quiet_hours, totals.skipped, totals.recorded) == (9, 9, 2, 0)
    assert totals.held_until == EIGHT and totals.held_until.tzinfo is not None

    morning = _send(store, "multi", book, NEXT_MORNING)
    assert morning["recorded"] == 9
    outreach.plan(store, "multi", _audience(later), "sms", 0.0, "kim", NEXT_MORNING)  # a second plan adds 3
    last = _send(store, "multi", book, NEXT_MORNING + dt.timedelta(minutes=5))
    assert last["recorded"] == 3  # the last run alone

    totals = outreach.campaign_totals(store, "multi", "sms")
    assert totals.counts() == {"sent": 0, "recorded": 12, "failed": 0, "skipped": 2, "control": 0, "held": 0,
                               "held_quiet_hours": 0, "waiting": 0, "sending": 0}  # fmt: skip
    assert totals.total == 14 and totals.held_until is None
    assert outreach.campaign_totals(store, "multi", "email") == outreach.CampaignTotals()  # per channel


def test_control_group_and_non_compliant_holds_are_counted_apart(store, tmp_path) -> None:
    book = consented(store, _book(40))
    literal = Template("edited", "sms", "(광고)멀티텔레콤 리텐션팀(데모)\n{name}님 안내입니다.\n"
                                        "문의 02-0000-0000\n무료수신거부 080-000-0000")  # fmt: skip
    template_id = compliance.save_template(tmp_path, literal)
    outreach.plan(store, "ctl", _audience(book), "sms", 0.3, "kim", DAY, template_id,
                  templates=compliance.load_templates(tmp_path))  # fmt: skip
    control = sum(outreach.is_control("ctl", c, 0.3) for c in book["customer_id"])
    assert 0 < control < 40
    moved = dataclasses.replace(SENDER, opt_out_phone="080-999-9999")  # the written-out number is now wrong
    clock = Clock(DAY)
    run = outreach.send(store, "ctl", OutboxOnlyChannel("sms"), moved, book, {},
                        SendOptions(sleep=clock.sleep, now=clock))  # fmt: skip
    assert run["held"] == 40 - control and run["recorded"] == 0
    totals = outreach.campaign_totals(store, "ctl", "sms")
    assert totals.control == control and totals.skipped == 0 and totals.total == 40
    assert totals.held == 40 - control and totals.held_quiet_hours == 0 and totals.held_until is None


def test_outlook_counts_what_goes_now_and_what_is_held(store) -> None:
    book = _book(10, night_consent=[True, True] + [False] * 8)
    book.loc[9, "opted_out"] = True
    consented(store, book)
    outreach.plan(store, "look", _audience(book), "sms", 0.0, "kim", NIGHT)

    before = outreach.send_outlook(store, "look", "sms", book, False, NIGHT, SENDER)
    assert (before.go_now, before.held, before.skipped, before.due) == (2, 7, 1, 10)  # night consent goes at night
    assert before.held_until == EIGHT and before.queued == 10 and before.held_quiet_hours == 7
    assert before.table.set_index("reason")["n"].to_dict() == {"": 2, "quiet_hours": 7, "opted_out": 1}

    _send(store, "look", book, NIGHT)
    late_grant = book.iloc[[2]].assign(sms_consent=False, night_consent=True)  # held, then night consent given
    consented(store, late_grant, at=NIGHT + dt.timedelta(minutes=1))
    again = outreach.send_outlook(store, "look", "sms", book, False, NIGHT + dt.timedelta(minutes=10), SENDER)
    # nothing is due until 08:00: send does not look at held rows before then, night consent or not
    assert (again.go_now, again.held, again.skipped, again.due) == (0, 7, 0, 0)
    assert again.held_until == EIGHT
    assert again.table.to_dict("records") == [{"decision": "hold", "reason": "quiet_hours", "n": 7}]

    morning = outreach.send_outlook(store, "look", "sms", book, False, NEXT_MORNING, SENDER)
    assert (morning.go_now, morning.held, morning.due, morning.held_until) == (7, 0, 7, None)


def test_outlook_of_an_unplanned_campaign_is_empty(store) -> None:
    look = outreach.send_outlook(store, "none", "sms", _book(1), False, DAY, SENDER)
    assert (look.go_now, look.held, look.skipped, look.due, look.held_until) == (0, 0, 0, 0, None)
    assert look.held_quiet_hours == 0
    assert look.table.empty
