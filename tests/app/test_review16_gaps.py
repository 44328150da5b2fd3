"""Gaps of issue #16 a browser review found on the pages: the contact import's problem table,
role names, the EDA customer table's headers, the EDA segment filter's names, and the send
step's confirmation after a Send."""

from __future__ import annotations

import functools
import json

import pytest

from churn_core.analytics import segments as sg
from churn_core.escaping import markdown_text
from churn_core.formatting import segment_name
from churn_core.i18n import t
from churn_core.outreach import campaigns
from tests.helpers.apptest import open_page, open_tab
from tests.helpers.downloads import download_frame, keep_downloads  # noqa: F401 (fixture)
from tests.helpers.outreach_doubles import DAY, Clock
from ui.data import customer_sample

pytestmark = pytest.mark.app

CONTACTS = (
    "customerID,name,mobile,email,sms_consent,sms_consent_date,email_consent,email_consent_date,opted_out\n"
    "NO-SUCH-CUSTOMER,김하나,010-2345-6781,,Y,2026-01-05,N,,N\n"
    "3668-QPYBK,이둘,010-2345-6782,,Y,,N,,N\n"
)


@pytest.fixture
def templates_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CHURN_TEMPLATES_DIR", str(tmp_path / "templates"))


def _labels(table) -> dict[str, str]:
    config = json.loads(table.proto.columns)
    return {c: v["label"] for c, v in config.items() if isinstance(v, dict) and "label" in v}


def _download_index(at, label: str) -> int:
    return next(i for i, b in enumerate(at.get("download_button")) if b.proto.label == label)


def test_contact_import_problems_read_in_korean_in_table_and_download(templates_dir, keep_downloads) -> None:  # noqa: F811
    at = open_page("pages/outreach.py", role="staff")
    at.file_uploader(key="contacts_file").set_value(("c.csv", CONTACTS.encode(), "text/csv")).run()
    assert not at.exception, at.exception
    headers = [t(f"col.contact_problem_{c}", "ko") for c in ("line", "column", "value", "reason")]
    table = next(d.value for d in at.dataframe if headers[-1] in d.value.columns)
    assert list(table.columns) == headers
    reasons = list(table[headers[-1]])
    assert t("contact_problem.unknown_customer", "ko") in reasons
    assert t("contact_problem.consent_without_date", "ko", flag="sms_consent") in reasons
    assert "no such customer in the warehouse" not in reasons
    download = download_frame(at, _download_index(at, t("out.problems_download", "ko")))
    assert list(download.columns) == headers and list(download[headers[-1]]) == reasons


def test_role_names_are_translated() -> None:
    at = open_page("pages/outreach.py", role="marketer")
    marketer = t("role.marketer", "ko")
    needs = t("auth.no_permission", "ko", role=marketer, permission=t("auth.perm_send", "ko"))
    assert needs in [w.value for w in at.warning]
    signed_in = t("out.signed_in", "ko", user=markdown_text("test-marketer"), role=marketer)
    assert signed_in in [c.value for c in at.sidebar.caption]
    assert not any("marketer" in w.value or "staff" in w.value for w in at.warning)


def test_eda_customer_table_and_download_have_translated_headers(keep_downloads) -> None:  # noqa: F811
    at = open_tab(open_page("pages/eda.py", role="analyst"), "eda_tab", "eda", "table")
    assert not at.exception, at.exception
    table = at.dataframe[0]
    labels = _labels(table)
    assert labels["senior_citizen"] == t("col.senior_citizen", "ko")
    raw = {"SeniorCitizen", "Churn", "Churn Score", "CLTV", "Churn Reason", "Zip Code", "Satisfaction Score"}
    assert not raw & set(labels.values()), sorted(raw & set(labels.values()))
    assert len(set(labels.values())) == len(labels)  # no two columns read the same
    download = download_frame(at)
    assert list(download.columns) == [labels.get(c, c) for c in table.value.columns]


def test_eda_segment_filter_names_segments_as_the_segments_page_does() -> None:
    at = open_page("pages/eda.py", role="analyst")
    box = next(m for m in at.sidebar.multiselect if m.label == t("filters.segment", "ko"))
    customers = customer_sample()
    traits = sg.segment_traits(customers, customers["segment"])
    names = [segment_name(s, codes, "ko") for s, codes in traits.items()]
    assert names and all(name in box.options for name in names), box.options
    assert not any(o.startswith(t("filters.segment_n", "ko", n="")) for o in box.options)


def test_send_confirmation_counts_what_is_left_after_sending(templates_dir, monkeypatch) -> None:
    clock = Clock(DAY)  # 10:00 in Seoul: nothing is held by quiet hours
    monkeypatch.setattr(
        campaigns, "SendOptions", functools.partial(campaigns.SendOptions, now=clock, sleep=clock.sleep)
    )
    at = open_page("pages/outreach.py", role="staff")
    at.text_input(key="o_cid_sms").input("review16-gaps-send").run()
    at.button(key="o_plan").click().run()
    at.checkbox(key="o_confirm").check().run()
    at.button(key="o_send").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith(t("out.sent_summary", "ko").split("{")[0]) for s in at.success)
    assert "o_confirm" not in [c.key for c in at.checkbox]  # everything went: no stale confirmation left
