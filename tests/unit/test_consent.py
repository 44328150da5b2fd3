"""Consent history (정보통신망법 §50): latest event wins, imports merge and never undo a later opt-out,
two-yearly reconfirmation (§50⑧), and the demo book's consent as demo events."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from churn_core.outreach import campaigns as outreach
from churn_core.outreach import consent, contacts
from churn_core.outreach.campaigns import SendOptions
from churn_core.outreach.compliance import KST
from tests.helpers.outreach_doubles import DAY, SENDER, Clock, FakeProvider

pytestmark = pytest.mark.unit

KNOWN = {"7590-VHVEG", "5575-GNVDE", "3668-QPYBK", "7795-CFOCW", "9237-HQITU"}
HEADER = (
    "customerID,name,mobile,email,sms_consent,sms_consent_date,email_consent,email_consent_date,opted_out,"
    "opted_out_date\n"
)
OLD_EXPORT = (  # the CRM export of January: everyone consented to SMS
    HEADER
    + "7590-VHVEG,김하나,010-2345-6781,,Y,2026-01-05,N,,N,\n"
    + "5575-GNVDE,이둘,010-2345-6782,,Y,2026-01-05,N,,N,\n"
).encode()
FULL_BOOK = (
    HEADER
    + "7590-VHVEG,김하나,010-2345-6781,,Y,2026-01-05,N,,N,\n"
    + "5575-GNVDE,이둘,010-2345-6782,,Y,2026-01-05,N,,N,\n"
    + "3668-QPYBK,박셋,010-2345-6783,set@example.org,Y,2026-02-01,Y,2026-02-01,N,\n"
    + "7795-CFOCW,최넷,010-2345-6784,,Y,2026-02-01,N,,N,\n"
).encode()
TODAY = DAY.date()


def _events(*rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "channel", "event", "occurred_at", "source"])
    return df.assign(evidence="test", recorded_by="test", recorded_at=pd.NaT)


def _import(wh, data: bytes, name: str) -> contacts.ImportPreview:
    result = contacts.validate_contacts(data, KNOWN, source=name, today=TODAY)
    assert result.n_rejected == 0, result.problems
    return contacts.apply_import(wh, result, "kim", now=DAY)


def test_latest_event_per_channel_wins_and_an_opt_out_covers_every_channel(store) -> None:
    t = pd.Timestamp("2026-01-05", tz="UTC")
    consent.record_events(store, _events(
        ("A", "sms", "granted", t, "staff"), ("A", "email", "granted", t, "staff"),
        ("A", "all", "withdrawn", t + pd.Timedelta(days=10), "unsubscribe_link"),  # opt-out of everything
        ("A", "sms", "granted", t + pd.Timedelta(days=20), "staff"),  # a newer, dated SMS consent
        ("B", "sms", "granted", t, "staff"), ("B", "sms", "withdrawn", t, "staff"),  # same instant: withdrawal wins
        ("C", "sms", "granted", t + pd.Timedelta(days=400), "staff"),  # dated after as_of: does not count yet
        ("D", "sms", "granted", t, "demo"),  # demo consent of a customer without a demo contact
    ))  # fmt: skip
    at = t + pd.Timedelta(days=30)
    now = consent.current_consent(store, as_of=at.to_pydatetime()).set_index("customer_id")
    assert set(now.index) == {"A", "B"}
    assert bool(now.loc["A", "sms_consent"]) and not now.loc["A", "email_consent"] and not now.loc["A", "opted_out"]
    assert now.loc["A", "sms_consent_at"] == t + pd.Timedelta(days=20)
    assert not now.loc["B", "sms_consent"]
    before = consent.current_consent(store, ["A"], as_of=(t + pd.Timedelta(days=15)).to_pydatetime()).iloc[0]
    assert before["opted_out"] and not before["sms_consent"] and before["opted_out_at"] == t + pd.Timedelta(days=10)
    assert consent.current_consent(store, []).empty


def test_reimporting_an_older_export_never_undoes_an_opt_out_nor_drops_anyone(store) -> None:
    first = _import(store, FULL_BOOK, "crm_2026-02.csv")
    assert (first.added, first.events_new) == (4, 5)
    # 7590-VHVEG clicks the unsubscribe link in March
    consent.record_opt_out(store, "7590-VHVEG", "unsubscribe_link", "token t1",
                           occurred_at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=KST))  # fmt: skip
    # the attack: someone re-imports January's export, which says 7590-VHVEG consented (on 5 January)
    preview = contacts.preview_import(store, contacts.validate_contacts(OLD_EXPORT, KNOWN, "crm_2026-01.csv", TODAY))
    assert (preview.added, preview.unchanged, preview.events_new, preview.events_known) == (0, 2, 0, 2)
    assert preview.demo_removed == 0 and preview.refused == 0
    _import(store, OLD_EXPORT, "crm_2026-01.csv")
    book = contacts.contact_book(store, pd.DataFrame({"customer_id": []}), now=DAY).set_index("customer_id")
    assert len(book) == 4  # nobody dropped
    assert book.loc["7590-VHVEG", "opted_out"] and not book.loc["7590-VHVEG", "sms_consent"]
    assert book.loc["3668-QPYBK", "email_consent"]
    # a campaign to all four: the opted-out customer is not messaged
    audience = pd.DataFrame({"customer_id": sorted(KNOWN - {"9237-HQITU"}), "risk_tier": "high"})
    clock, provider = Clock(DAY), FakeProvider()
    outreach.plan(store, "march", audience, "sms", 0.0, "kim", clock())
    stale = book.reset_index().assign(sms_consent=True, opted_out=False)  # a stale copy claiming consent
    counts = outreach.send(store, "march", provider, SENDER, stale, {}, SendOptions(sleep=clock.sleep, now=clock))
    assert counts["sent"] == 3 and counts["skipped"] == 1
    assert "+821023456781" not in [r for r, _ in provider.sent]
    assert outreach.ledger(store, "march").set_index("customer_id").loc["7590-VHVEG", "reason"] == "opted_out"
    # only a newer, dated consent can bring the customer back (here: re-consent in a store in April)
    newer = (HEADER + "7590-VHVEG,김하나,010-2345-6781,,Y,2026-04-02,N,,N,\n").encode()
    assert contacts.preview_import(store, contacts.validate_contacts(newer, KNOWN, "store.csv", TODAY)).events_new == 1
    _import(store, newer, "store.csv")
    state = consent.current_consent(store, ["7590-VHVEG"], as_of=DAY).iloc[0]
    assert state["sms_consent"] and not state["opted_out"]
    # the older grant stays in the history without effect: the history only grows
    assert len(consent.history(store, ["7590-VHVEG"])) == 3


def test_an_older_grant_in_a_file_is_reported_as_without_effect(store) -> None:
    consent.record_opt_out(store, "5575-GNVDE", "staff", "phone call", occurred_at=dt.datetime(2026, 2, 1, tzinfo=KST))
    preview = contacts.preview_import(store, contacts.validate_contacts(OLD_EXPORT, KNOWN, "old.csv", TODAY))
    assert preview.grants_without_effect == 1 and preview.added == 2
    changes = preview.changes.set_index("customer_id")
    assert (
        changes.loc["5575-GNVDE", "without_effect"] == 1
        and "sms granted 2026-01-05" in changes.loc["5575-GNVDE", "consent_events"]
    )


def test_import_merges_blank_cells_keep_values_and_the_first_real_import_retires_the_demo_book(store) -> None:
    demo_ids = pd.DataFrame({"customer_id": ["7590-VHVEG", "9237-HQITU"]})
    contacts.store_demo_book(store, demo_ids, now=DAY)
    _import(store, FULL_BOOK, "book.csv")
    blank_mobile = (HEADER + "3668-QPYBK,박셋 (개명),,,N,,N,,N,\n").encode()
    preview = contacts.preview_import(store, contacts.validate_contacts(blank_mobile, KNOWN, "fix.csv", TODAY))
    assert (preview.updated, preview.events_new) == (1, 0)  # undated "N": no event, nothing withdrawn
    assert preview.changes.iloc[0]["fields"] == "name"
    _import(store, blank_mobile, "fix.csv")
    book = contacts.contact_book(store, demo_ids, now=DAY).set_index("customer_id")
    assert not book["is_demo"].any() and "9237-HQITU" not in book.index  # demo contacts retired
    assert book.loc["3668-QPYBK", "phone_e164"] == "+821023456783" and book.loc["3668-QPYBK", "name"] == "박셋 (개명)"
    assert book.loc["3668-QPYBK", "sms_consent"]  # an undated "N" never erases a dated grant
    # the demo grant of 7590-VHVEG (source demo) no longer counts: only its real, imported consent does
    assert book.loc["7590-VHVEG", "sms_consent_at"] == consent.day_start("2026-01-05")


def test_undated_or_future_consent_refuses_the_row_and_a_dated_no_is_a_withdrawal(store) -> None:
    data = (
        HEADER
        + "7590-VHVEG,김하나,010-2345-6781,,Y,,N,,N,\n"  # consent without a date
        + "5575-GNVDE,이둘,010-2345-6782,,Y,2027-01-01,N,,N,\n"  # dated in the future
        + "3668-QPYBK,박셋,010-2345-6783,,N,2026-03-01,N,,Y,\n"  # opted out without a date
        + "7795-CFOCW,최넷,010-2345-6784,,N,2026-03-01,N,,N,\n"  # a dated "no": SMS consent withdrawn that day
    ).encode()
    result = contacts.validate_contacts(data, KNOWN, "mixed.csv", TODAY)
    reasons = result.problems.set_index("line")["reason"].to_dict()
    assert set(reasons) == {2, 3, 4}
    assert "no date" in reasons[2] and "future" in reasons[3] and "no date" in reasons[4]
    ev = result.events.iloc[0]
    assert len(result.events) == 1 and (ev["customer_id"], ev["channel"], ev["event"]) == ("7795-CFOCW", "sms",
                                                                                            "withdrawn")  # fmt: skip
    assert ev["evidence"] == "mixed.csv line 5" and ev["occurred_at"] == pd.Timestamp("2026-02-28 15:00", tz="UTC")


def test_consent_older_than_two_years_is_not_used_and_is_listed_for_reconfirmation(store) -> None:
    ids = ["E1", "E2", "E3"]
    phones = ["+821055550001", "+821055550002", "+821055550003"]
    book = pd.DataFrame({"customer_id": ids, "name": ids, "phone_e164": phones, "email": None,
                         "preferred_channel": "sms", "gu": None, "is_demo": False})  # fmt: skip
    store.merge_rows("contacts", book)
    granted = {
        "E1": DAY - dt.timedelta(days=731),
        "E2": DAY - dt.timedelta(days=715),
        "E3": DAY - dt.timedelta(days=365),
    }
    consent.record_events(store, _events(*[(c, "sms", "granted", g, "import") for c, g in granted.items()]))
    due = consent.reconfirmation_due(store, as_of=DAY)
    assert list(due["customer_id"]) == ["E1", "E2"] and list(due["expired"]) == [True, False]
    assert due.loc[1, "address"] == "+821055550002" and due.loc[1, "expires_at"] == pd.Timestamp(
        granted["E2"]
    ).tz_convert("UTC") + pd.DateOffset(years=2)
    full = contacts.contact_book(store, pd.DataFrame({"customer_id": []}), now=DAY)
    at_risk = pd.DataFrame({"customer_id": ids, "risk_tier": "high", "churn_probability": [0.9, 0.8, 0.7]})
    segs = pd.DataFrame({"customer_id": ids, "age_group": "65-69", "segment": 0})
    assert list(outreach.build_audience(at_risk, segs, full, "sms", now=DAY)["customer_id"]) == ["E2", "E3"]
    clock = Clock(DAY)
    outreach.plan(store, "renew", at_risk, "sms", 0.0, "kim", clock())
    summary = outreach.dry_run(store, "renew", "sms", full, True, DAY, SENDER).set_index("reason")["n"]
    assert summary.to_dict() == {"": 2, "consent_expired": 1}
    provider = FakeProvider()
    counts = outreach.send(store, "renew", provider, SENDER, full, {}, SendOptions(sleep=clock.sleep, now=clock))
    assert counts["sent"] == 2 and counts["skipped"] == 1 and "+821055550001" not in [r for r, _ in provider.sent]
    assert outreach.ledger(store, "renew").set_index("customer_id").loc["E1", "reason"] == "consent_expired"


def test_demo_book_consent_is_stored_as_demo_events(store) -> None:
    seniors = pd.DataFrame({"customer_id": [f"S{i:03d}" for i in range(200)]})
    book = contacts.contact_book(store, seniors, gus=("종로구",), now=DAY)
    assert len(book) == 200 and book["is_demo"].all()
    assert "sms_consent" not in store.schema("contacts")  # the book itself holds no consent
    events = consent.history(store)
    assert set(events["source"]) == {"demo"} and len(events) > 200
    assert 0 < book["opted_out"].sum() < 30 and book["sms_consent"].sum() > 100
    assert (book.loc[book["opted_out"], ["sms_consent", "email_consent"]] == False).all().all()  # noqa: E712
    assert len(contacts.contact_book(store, seniors, now=DAY)) == 200  # stored once
    assert len(consent.history(store)) == len(events)


def test_a_contact_book_from_before_the_consent_history_is_migrated_to_events(store) -> None:
    legacy = pd.DataFrame({
        "customer_id": ["L1", "L2"], "name": ["가", "나"], "phone_e164": ["+821055551111", "+821055552222"],
        "email": [None, None], "sms_consent": [True, True], "sms_consent_date": [dt.date(2026, 1, 5)] * 2,
        "email_consent": [False, False], "email_consent_date": [None, None], "night_consent": [False, False],
        "opted_out": [False, True], "opted_out_date": [None, dt.date(2026, 2, 1)], "preferred_channel": ["sms"] * 2,
        "gu": [None, None], "is_demo": [False, False],
    })  # fmt: skip
    store.replace_table("legacy_contacts", legacy)
    store.execute("DROP TABLE {contacts}")
    store.execute("ALTER TABLE legacy_contacts RENAME TO contacts")
    book = contacts.contact_book(store, pd.DataFrame({"customer_id": []}), now=DAY).set_index("customer_id")
    assert book.loc["L1", "sms_consent"] and book.loc["L2", "opted_out"] and not book.loc["L2", "sms_consent"]
    assert "sms_consent" not in store.schema("contacts") and len(consent.history(store)) == 3
