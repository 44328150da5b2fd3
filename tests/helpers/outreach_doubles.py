"""Shared doubles of the outreach tests: the demo sender, an injectable clock, a provider double,
and consent events for a test contact book (the book itself carries no consent)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from churn_core.outreach import consent
from churn_core.outreach.campaigns import SendResult
from churn_core.outreach.compliance import KST, Sender

SENDER = Sender("멀티텔레콤 리텐션팀(데모)", "02-0000-0000", "080-000-0000", "http://localhost:8501/privacy")
DAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=KST)  # a Monday, 10:00 in Seoul
NIGHT = dt.datetime(2026, 11, 23, 22, 30, tzinfo=KST)


class Clock:
    def __init__(self, start: dt.datetime):
        self.t = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)


class FakeProvider:
    """A channel double for ledger tests only; the real channels are tested against local servers."""

    real = True

    def __init__(self, name="sms", fail_for=(), crash_after=None):
        self.name, self.sent, self.fail_for, self.crash_after = name, [], set(fail_for), crash_after

    def send(self, recipient, message):
        if self.crash_after is not None and len(self.sent) >= self.crash_after:
            raise KeyboardInterrupt("process killed mid-campaign")
        if recipient in self.fail_for:
            return SendResult(False, error_code="21211", message="invalid 'To' number")
        self.sent.append((recipient, message["body"]))
        return SendResult(True, provider_id=f"SM{len(self.sent):032d}")


def consented(wh, book: pd.DataFrame, at: dt.datetime = DAY - dt.timedelta(days=30)) -> pd.DataFrame:
    """Record the consent flags of a test ``book`` as consent events dated ``at`` (source ``staff``).

    ``sms_consent`` / ``email_consent`` / ``night_consent`` true → a grant on that channel;
    ``opted_out`` true → a withdrawal on ``all`` a second later. Returns ``book``.
    """
    rows = []
    for r in book.to_dict("records"):
        for flag, channel in (("sms_consent", "sms"), ("email_consent", "email"), ("night_consent", "night")):
            if r.get(flag):
                rows.append((r["customer_id"], channel, "granted", at))
        if r.get("opted_out"):
            rows.append((r["customer_id"], "all", "withdrawn", at + dt.timedelta(seconds=1)))
    if rows:
        events = pd.DataFrame(rows, columns=["customer_id", "channel", "event", "occurred_at"])
        consent.record_events(wh, events.assign(source="staff", evidence="test book", recorded_by="test",
                                                recorded_at=pd.NaT))  # fmt: skip
    return book
