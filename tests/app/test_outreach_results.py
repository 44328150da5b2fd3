"""AppTest of the outreach page as a staff member uses it across send runs (#16): the confirmation
counts what goes now and what is held, quiet-hours holds get a banner saying when they may go and
what to do, pressing Send when nothing is due says so, the result panel adds up every run, and a
contact import previews its merge (changed fields, in words) and says what it merged.

The page's clock is the send options' ``now`` (:mod:`ui.outreach`), set here to tonight 22:30 in
Seoul and then to tomorrow morning, as the outreach tests inject it (:mod:`tests.helpers.outreach_doubles`).
"""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
import pytest

from churn_core.data.warehouse import open_warehouse
from churn_core.i18n import t
from churn_core.outreach import campaigns
from churn_core.outreach.compliance import KST
from tests.helpers.apptest import open_page
from tests.helpers.outreach_doubles import Clock

pytestmark = pytest.mark.app

PAGE = "pages/outreach.py"


def _tonight() -> dt.datetime:
    """22:30 in Seoul today (quiet hours), whatever the wall clock says (demo consent is dated before today)."""
    return dt.datetime.combine(dt.datetime.now(KST).date(), dt.time(22, 30), KST)


def _eight(night: dt.datetime) -> str:
    """The next 08:00 KST after ``night``, as the page writes it."""
    return (night + dt.timedelta(days=1)).strftime("%Y-%m-%d 08:00")


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The page's clock (sends, dry run, banners): tonight 22:30 KST until the test moves it."""
    night = Clock(_tonight())
    monkeypatch.setattr(
        campaigns, "SendOptions", functools.partial(campaigns.SendOptions, now=night, sleep=night.sleep)
    )
    return night


def _plan(campaign_id: str):
    at = open_page(PAGE, role="staff")
    at.text_input(key="o_cid_sms").input(campaign_id).run()
    at.button(key="o_plan").click().run()
    assert not at.exception, at.exception
    return at


def _press_send(at):
    at.checkbox(key="o_confirm").check().run()  # counts changed since the last press: confirm again
    at.button(key="o_send").click().run()
    assert not at.exception, at.exception
    return at


def _ledger(at, campaign_id: str) -> pd.DataFrame:
    """The campaign's ledger rows with their status codes, read from the warehouse the page writes."""
    assert not at.exception, at.exception
    wh = open_warehouse()
    try:
        return campaigns.ledger(wh, campaign_id)
    finally:
        wh.close()


def _outcomes(rows: pd.DataFrame) -> dict[str, int]:
    control = rows["reason"] == "control_group"
    return {
        "recorded": int((rows["status"] == "recorded").sum()),
        "held": int(((rows["status"] == "queued") & (rows["reason"] == "quiet_hours")).sum()),
        "skipped": int(((rows["status"] == "skipped") & ~control).sum()),
        "control": int(control.sum()),
    }


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _total(at, name: str) -> int:
    return int(_metrics(at)[t(f"out.total_{name}", "ko")].replace(",", ""))


def test_confirmation_counts_now_and_held_and_quiet_hours_get_a_banner(clock) -> None:
    at = _plan("night16a")
    label = at.checkbox(key="o_confirm").label
    when = _eight(clock())
    assert t("out.confirm_held_until", "ko", n=_held_now(at), when=when) in [c.value for c in at.caption]
    _press_send(at)
    done = _outcomes(_ledger(at, "night16a"))
    assert done["recorded"] > 0 and done["held"] > 0  # night consent goes at night, the rest waits
    expected = t("out.confirm_counts", "ko", campaign="night16a", now=done["recorded"], held=done["held"],
                 skipped=done["skipped"])  # fmt: skip
    assert label == expected  # what the box said before Send is what Send did
    banner = t("out.quiet_banner", "ko", n=done["held"], when=when, campaign="night16a")
    assert banner in [w.value for w in at.warning]
    assert _total(at, "held") == done["held"] and _total(at, "recorded") == done["recorded"]


def _held_now(at) -> int:
    """Rows the dry-run table shows as held by quiet hours."""
    table = next(d.value for d in at.dataframe if "decision" in d.value)
    return int(table.loc[table["reason"] == t("out.reason_quiet_hours", "ko"), "n"].sum())


def test_send_when_nothing_is_due_says_so_and_totals_cover_every_run(clock) -> None:
    at = _press_send(_plan("night16b"))
    night = _outcomes(_ledger(at, "night16b"))
    assert night["held"] > 0  # the page reruns after a Send (#16): its summary below, counts fresh
    assert [s.value for s in at.success][-1] == t("out.sent_summary", "ko", sent=0, recorded=night["recorded"],
                                                  failed=0, skipped=night["skipped"], held=night["held"],
                                                  unknown_outcome=0)  # fmt: skip

    clock.sleep(600)  # ten minutes later, still night: nothing is due
    _press_send(at)
    nothing = t("out.nothing_due", "ko", n=night["held"], when=_eight(clock() - dt.timedelta(seconds=600)))
    assert [i.value for i in at.info] == [nothing]
    assert not at.get("progress")  # no empty progress bar
    assert not [s.value for s in at.success if s.value.startswith(t("out.sent_summary", "ko").split("{")[0])]
    assert _outcomes(_ledger(at, "night16b")) == night  # nothing changed

    clock.t = (clock() + dt.timedelta(hours=11, minutes=20)).astimezone(dt.UTC)  # tomorrow, 10:00 in Seoul
    at.run()
    assert t("out.quiet_banner_due", "ko", n=night["held"], campaign="night16b") in [i.value for i in at.info]
    _press_send(at)
    morning = _outcomes(_ledger(at, "night16b"))
    assert morning["held"] == 0 and morning["recorded"] == night["recorded"] + night["held"]
    last_run = night["held"]  # the morning run recorded only what the night held
    assert at.success[-1].value.startswith(
        t("out.sent_summary", "ko", sent=0, recorded=last_run, failed=0, skipped=0, held=0, unknown_outcome=0)[:12]
    )
    assert _total(at, "recorded") == morning["recorded"] > last_run  # the panel adds up both runs
    assert _total(at, "held") == 0 and _total(at, "control") == morning["control"]
    assert _total(at, "skipped") == morning["skipped"]
    assert not [w for w in at.warning if t("out.quiet_banner", "ko").split("{")[0] in w.value]


CONTACTS_HEADER = (
    "customerID,name,mobile,email,sms_consent,sms_consent_date,email_consent,email_consent_date,opted_out\n"
)


def _upload(at, name: str, rows: str):
    at.file_uploader(key="contacts_file").set_value((name, (CONTACTS_HEADER + rows).encode(), "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_contact_import_previews_changed_fields_and_says_what_it_merged() -> None:
    wh = open_warehouse()
    at = open_page(PAGE, role="staff")
    try:
        _upload(at, "first.csv", "0280-XJGEX,김하나,010-2345-6781,,Y,2026-01-05,N,,N\n")
        at.button(key="import_confirm").click().run()
        merged = t("out.import_merged", "ko", added=1, updated=0, unchanged=0, events_new=1)
        assert merged in [s.value for s in at.success]  # the merge says what it did
        _upload(at, "moved.csv", "0280-XJGEX,김하나,010-2345-9999,,Y,2026-01-05,N,,N\n")  # a new mobile number
        changes = next(d.value for d in at.dataframe if "fields" in d.value)
        assert changes.to_dict("records") == [{
            "customer_id": "0280-XJGEX", "change": t("out.change_updated", "ko"), "fields": "phone_e164",
            "consent_events": "", "without_effect": 0,
        }]  # fmt: skip
        assert wh.query("SELECT phone_e164 FROM {contacts} WHERE customer_id = '0280-XJGEX'")["phone_e164"].iloc[0] == (
            "+821023456781"
        )  # previewed, not written
        at.button(key="import_confirm").click().run()
        merged = t("out.import_merged", "ko", added=0, updated=1, unchanged=0, events_new=0)
        assert merged in [s.value for s in at.success]
        book = wh.query("SELECT customer_id, phone_e164 FROM {contacts}")
        assert book.to_dict("records") == [{"customer_id": "0280-XJGEX", "phone_e164": "+821023459999"}]
    finally:  # give the other page tests their demo book back
        wh.execute("DELETE FROM {contacts} WHERE TRUE")
        wh.close()
