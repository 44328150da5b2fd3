"""AppTest of the outreach page: nothing without a session, no sending without the staff role,
and a full outbox-only campaign for a signed-in staff member."""

from __future__ import annotations

import functools
import json

import pytest

from churn_core.auth import hash_password
from churn_core.config import get_settings
from churn_core.i18n import t
from churn_core.outreach import campaigns
from tests.helpers.apptest import open_page
from tests.helpers.outreach_doubles import DAY, Clock

pytestmark = pytest.mark.app

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(monkeypatch, tmp_path):
    users = {"kim": {"password_hash": hash_password(PASSWORD), "role": "staff"},
             "lee": {"password_hash": hash_password(PASSWORD), "role": "analyst"}}  # fmt: skip
    monkeypatch.setenv("CHURN_STAFF_USERS", json.dumps(users))
    monkeypatch.setenv("CHURN_TEMPLATES_DIR", str(tmp_path / "templates"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def daytime(monkeypatch) -> Clock:
    """Sends from the page run at 10:00 in Seoul, whatever the wall clock says.

    Between 21:00 and 08:00 KST quiet hours would hold every message (status ``queued``).
    """
    clock = Clock(DAY)
    monkeypatch.setattr(
        campaigns, "SendOptions", functools.partial(campaigns.SendOptions, now=clock, sleep=clock.sleep)
    )
    return clock


def _sign_in(at, user: str, password: str = PASSWORD):
    at.text_input(key="login_user").input(user)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()  # the form's submit button
    return at


def test_without_a_session_nothing_sensitive_is_shown(accounts) -> None:
    at = open_page("pages/outreach.py")
    assert at.text_input(key="login_user").label == t("out.username", "ko")  # the sign-in form is shown
    assert at.text_input(key="login_password").label == t("out.password", "ko")
    assert not at.dataframe and not at.metric and not at.text_area
    assert not [b for b in at.button if b.key == "o_send"]
    _sign_in(at, "kim", "wrong password!!")
    assert any(t("out.bad_login", "ko") in e.value for e in at.error)
    assert not at.metric


def test_analyst_cannot_send(accounts) -> None:
    at = _sign_in(open_page("pages/outreach.py"), "lee")
    assert any(t("role.analyst", "ko") in w.value for w in at.warning)  # the role's name, translated (#16)
    assert not [b for b in at.button if b.key in ("o_plan", "o_send")]


def test_staff_runs_an_outbox_only_campaign_once(accounts, daytime) -> None:
    at = _sign_in(open_page("pages/outreach.py"), "kim")
    assert not at.exception, at.exception
    assert any(t("out.demo_contacts", "ko")[:20] in w.value for w in at.warning)
    assert any(t("out.outbox_only", "ko")[:20] in w.value for w in at.warning)
    size = int(at.metric[0].value.replace(",", ""))
    assert size > 100  # consenting at-risk seniors in the demo book
    assert "(광고)" in at.code[0].value and "무료수신거부" in at.code[0].value
    at.text_input(key="o_cid_sms").input("test-campaign").run()
    at.button(key="o_plan").click().run()
    planned = at.dataframe[-1].value  # the ledger, below the plan's message
    planned = planned[planned["campaign_id"] == "test-campaign"]
    assert len(planned) == size
    counts = {"added": size, "control": int(planned["is_control"].sum()), "already_planned": 0}
    assert [s.value for s in at.success] == [t("out.planned", "ko", **counts)]
    at.checkbox(key="o_confirm").check().run()
    at.button(key="o_send").click().run()
    assert not at.exception, at.exception
    done = at.success[-1].value
    assert done.startswith(t("out.sent_summary", "ko").split("{")[0])
    ledger = at.dataframe[-1].value
    campaign = ledger[ledger["campaign_id"] == "test-campaign"]
    assert len(campaign) == size and campaign["customer_id"].is_unique
    shown = {status: t(f"status.{status}", "ko") for status in ("recorded", "skipped", "sent")}  # translated
    statuses = set(campaign["status"])
    assert statuses <= {shown["recorded"], shown["skipped"]} and shown["sent"] not in statuses
    # pressing the buttons again adds and sends nothing
    at.button(key="o_plan").click().run()
    assert any(f"{size}" in s.value for s in at.success)
    assert [s.value for s in at.success] == [t("out.planned", "ko", added=0, control=0, already_planned=size)]
    assert "o_confirm" not in [c.key for c in at.checkbox]  # nothing left to send


def test_edited_template_without_opt_out_is_refused(accounts) -> None:
    at = _sign_in(open_page("pages/outreach.py"), "kim")
    at.selectbox(key="o_tpl_sms").set_value("sms_standard").run()
    at.text_area(key="o_body_sms_standard").input("(광고)멀티텔레콤 리텐션팀(데모)\n{name}님 안내입니다.").run()
    problems = [e.value for e in at.error]
    assert any("무료수신거부" in p for p in problems) and any("02-0000-0000" in p for p in problems)
    assert at.button(key="o_plan").disabled


CONTACTS_HEADER = (
    "customerID,name,mobile,email,sms_consent,sms_consent_date,email_consent,email_consent_date,opted_out\n"
)


def _upload(at, name: str, rows: str):
    at.file_uploader(key="contacts_file").set_value((name, (CONTACTS_HEADER + rows).encode(), "text/csv")).run()
    return [m.value for m in at.markdown]


def test_contact_import_previews_the_merge_then_keeps_everyone(accounts) -> None:
    from churn_core.data.warehouse import open_warehouse
    from churn_core.outreach import consent

    wh = open_warehouse()
    at = _sign_in(open_page("pages/outreach.py"), "kim")
    due = len(consent.reconfirmation_due(wh))  # the demo book has grants due for (or past) reconfirmation
    assert due > 0 and t("out.reconfirm_note", "ko", n=due, years=2, days=30) in [c.value for c in at.caption]
    demo = int(wh.query("SELECT COUNT(*) AS n FROM {contacts} WHERE is_demo")["n"].iloc[0])
    try:
        shown = _upload(at, "a.csv", "3668-QPYBK,김하나,010-2345-6781,,Y,2026-01-05,N,,N\n"
                                     "9237-HQITU,이둘,010-2345-6782,,Y,2026-01-05,N,,N\n")  # fmt: skip
        counts = dict(added=2, updated=0, unchanged=0, demo_removed=demo, events_new=2, events_known=0,
                      grants_without_effect=0, refused=0)  # fmt: skip
        assert t("out.import_preview", "ko", **counts) in shown  # shown before anything is written
        assert int(wh.query("SELECT COUNT(*) AS n FROM {contacts}")["n"].iloc[0]) == demo
        at.button(key="import_confirm").click().run()
        assert not at.exception, at.exception
        again = dict(counts, added=0, unchanged=2, demo_removed=0, events_new=0, events_known=2)
        assert t("out.import_preview", "ko", **again) in [m.value for m in at.markdown]  # the same file again: no-op
        shown = _upload(at, "b.csv", "9305-CDSKC,박셋,010-2345-6783,,Y,2026-02-01,N,,N\n"
                                     "7892-POOKP,최넷,010-2345-6784,,Y,,N,,N\n")  # fmt: skip
        third = dict(counts, added=1, demo_removed=0, events_new=1, refused=1)
        assert t("out.import_preview", "ko", **third) in shown
        at.button(key="import_confirm").click().run()
        book = wh.query("SELECT customer_id, is_demo FROM {contacts} ORDER BY customer_id")
        assert list(book["customer_id"]) == ["3668-QPYBK", "9237-HQITU", "9305-CDSKC"]  # merged, nobody dropped
        assert not book["is_demo"].any() and not any(t("out.demo_contacts", "ko")[:20] in w.value for w in at.warning)
    finally:  # give the other page tests their demo book back
        wh.execute("DELETE FROM {contacts} WHERE TRUE")
        wh.close()


@pytest.mark.parametrize(
    ("name", "data", "shown"),
    [
        ("no_name.csv", "customerID,mobile,sms_consent,email_consent,opted_out\n3668-QPYBK,010-2345-6781,Y,N,N\n",
         "name"),
        ("latin1.csv", "customerID,name\n3668-QPYBK,M\xfcller\n".encode("latin-1"), "UTF-8"),
    ],
)  # fmt: skip
def test_a_contact_file_that_cannot_be_imported_is_a_clear_error_not_a_crash(accounts, name, data, shown) -> None:
    # issue #13 review: a book without a required column, or in no supported encoding, used to crash the page
    at = _sign_in(open_page("pages/outreach.py"), "kim")
    raw = data.encode() if isinstance(data, str) else data
    at.file_uploader(key="contacts_file").set_value((name, raw, "text/csv")).run()
    assert not at.exception, at.exception
    texts = [e.value for e in at.error] + [d.value.to_csv() for d in at.dataframe]  # the error, the problem table
    assert t("upload.contacts_refused", "ko", detail="")[:20] in texts[0] and any(shown in x for x in texts), texts
    assert not [b for b in at.button if b.key == "import_confirm"]


def test_a_contact_workbook_over_the_row_limit_is_refused_after_reading(accounts, monkeypatch) -> None:
    # issue #13 review: a workbook's rows were "counted" as newline bytes of the zip, so the row
    # limit did not hold for .xlsx contact books (ui/uploads.py counts a workbook's rows once read)
    import io

    import pandas as pd

    monkeypatch.setenv("CHURN_MAX_UPLOAD_ROWS", "5")
    get_settings.cache_clear()
    book = pd.DataFrame({"customerID": [f"0000-TEST{i}" for i in range(12)], "name": ["김하나"] * 12,
                         "sms_consent": ["N"] * 12, "email_consent": ["N"] * 12, "opted_out": ["N"] * 12})  # fmt: skip
    buffer = io.BytesIO()
    book.to_excel(buffer, index=False)
    at = _sign_in(open_page("pages/outreach.py"), "kim")
    at.file_uploader(key="contacts_file").set_value(("book.xlsx", buffer.getvalue(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert any("12" in e.value and "5" in e.value for e in at.error), [e.value for e in at.error]
