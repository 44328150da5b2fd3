"""Uploads, issue #13 review gaps, walked through in AppTest: the outreach page's contact import has
what the scoring upload has (the detected format, a sheet picker, the mapping step that can be
saved), and the scoring caption says the uploaded file's own column count."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from churn_core.config import get_settings
from churn_core.data.reading import saved_mapping
from churn_core.i18n import t
from tests.helpers.apptest import open_page, open_tab
from tests.helpers.classic import classic_bytes

pytestmark = pytest.mark.app

#: Two customers of the shipped file and their contact rows (all consent off: nothing to date).
ROWS = [
    ["3668-QPYBK", "김하나", "010-2345-6781", "N", "N", "N"],
    ["9237-HQITU", "이둘", "010-2345-6782", "N", "N", "N"],
]
HEADERS = ["customerID", "name", "mobile", "sms_consent", "email_consent", "opted_out"]


@pytest.fixture(autouse=True)
def staff(role_accounts, monkeypatch, tmp_path):
    """The test accounts of every role, and saved column mappings in a throw-away file, never in data/."""
    monkeypatch.setenv("CHURN_TEMPLATES_DIR", str(tmp_path / "templates"))
    monkeypatch.setenv("CHURN_COLUMN_MAPPINGS_FILE", str(tmp_path / "column_mappings.json"))
    get_settings.cache_clear()
    yield tmp_path / "column_mappings.json"
    get_settings.cache_clear()


def _outreach() -> AppTest:
    return open_page("pages/outreach.py", role="staff")


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="contacts_file").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def _texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def _summary(n: int) -> str:
    return t("out.import_summary", "ko", n=n, ok=n, bad=0)


def test_a_korean_contact_file_says_its_encoding_and_separator(staff) -> None:
    frame = pd.DataFrame(ROWS, columns=["고객ID", "이름", "휴대폰", "문자수신동의", "이메일수신동의", "수신거부"])
    at = _upload(_outreach(), "연락처.csv", frame.to_csv(index=False, sep=";").encode("cp949"))
    detected = t("upload.detected_csv", "ko", encoding="CP949 (EUC-KR)", separator=t("upload.sep_semicolon", "ko"),
                 rows="2")  # fmt: skip
    assert detected in _texts(at.caption), _texts(at.caption)
    assert _summary(2) in _texts(at.markdown) and not at.error


def test_a_contact_workbook_with_several_sheets_gets_a_sheet_picker(staff) -> None:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"안내": ["이 파일은 연락처입니다"]}).to_excel(writer, sheet_name="안내", index=False)
        pd.DataFrame(ROWS, columns=HEADERS).to_excel(writer, sheet_name="연락처", index=False)
    at = _upload(_outreach(), "book.xlsx", buffer.getvalue())
    picker = at.selectbox(key="contacts_sheet")
    assert list(picker.options) == ["안내", "연락처"] and picker.value == "안내"  # the first sheet unless chosen
    picker.set_value("연락처").run()
    assert not at.exception, at.exception
    assert t("upload.detected_excel", "ko", sheet="연락처", rows="2") in _texts(at.caption)
    assert _summary(2) in _texts(at.markdown) and not at.error


def test_a_contact_header_that_matches_nothing_gets_the_mapping_step_and_is_saved(staff) -> None:
    headers = ["customer no", *HEADERS[1:]]  # no alias of customerID, but close to it
    data = pd.DataFrame(ROWS, columns=headers).to_csv(index=False).encode()
    at = _upload(_outreach(), "mapped.csv", data)
    assert "customerID" in _texts(at.error) and _summary(2) not in _texts(at.markdown)
    pick = at.selectbox(key="contacts_map_customerID")
    assert pick.value == "customer no"  # the best-matching header preselected
    at.checkbox(key="contacts_map_save").check()
    next(b for b in at.button if b.label == t("upload.use_mapping", "ko")).click().run()
    assert not at.exception, at.exception
    assert _summary(2) in _texts(at.markdown) and not at.error
    assert saved_mapping(headers, "contacts", staff) == {"customer no": "customerID"}
    assert saved_mapping(headers, "scoring", staff) is None  # filed under its own purpose

    again = _upload(_outreach(), "next_month.csv", data)  # a new session: the saved mapping is used at once
    assert t("upload.mapping_applied", "ko") in _texts(again.caption)
    assert _summary(2) in _texts(again.markdown) and not again.error


def test_the_scoring_caption_says_the_files_own_column_count(staff) -> None:
    at = open_tab(open_page("pages/scoring.py", role="analyst"), "score_tab", "score", "batch")
    _upload_score = at.file_uploader(key="score_upload")
    _upload_score.set_value(("kaggle.csv", classic_bytes(churn=False, rows=40), "text/csv")).run()
    assert not at.exception, at.exception
    captions = _texts(at.caption)
    assert t("schema.classic_file", "ko", n=20) in captions, captions  # 20 columns: no Churn
    assert t("schema.classic", "ko") not in captions
