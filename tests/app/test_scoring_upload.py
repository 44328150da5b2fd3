"""The scoring page's upload as people use it (issues #13 and #16), walked through in AppTest:
files as Korean offices save them are read and the page says how; missing columns get a mapping
step that can be saved; a file with a few bad rows can still be scored; a refused file offers
its problem list; the progress bar never outlives an error. Files are made from the shipped one."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from churn_core.config import RAW_CUSTOMERS_CSV, get_settings
from churn_core.data.reading import saved_mapping
from churn_core.i18n import t
from churn_core.prediction import scoring
from churn_core.prediction.scoring import SCORING_RAW_COLUMNS
from tests.helpers.apptest import open_page, open_tab

pytestmark = pytest.mark.app

ROWS = 60


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    """The first rows of the shipped file, columns needed for scoring, every cell as text."""
    frame = pd.read_csv(RAW_CUSTOMERS_CSV, dtype=str, keep_default_na=False, nrows=ROWS)
    return frame[list(SCORING_RAW_COLUMNS)]


@pytest.fixture(autouse=True)
def mapping_store(tmp_path, monkeypatch):
    """Saved column mappings go to a throw-away file, never to data/."""
    path = tmp_path / "column_mappings.json"
    monkeypatch.setenv("CHURN_COLUMN_MAPPINGS_FILE", str(path))
    get_settings.cache_clear()
    yield path
    monkeypatch.delenv("CHURN_COLUMN_MAPPINGS_FILE")
    get_settings.cache_clear()


def _batch_page() -> AppTest:
    return open_tab(open_page("pages/scoring.py", role="analyst"), "score_tab", "score", "batch")


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="score_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def _texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _downloads(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def _scored(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "customer_id" in d.value.columns)


def test_semicolon_cp949_file_with_korean_headers_is_scored_and_the_page_says_how_it_was_read(shipped) -> None:
    korean = shipped.rename(
        columns={"customerID": "고객ID", "gender": "성별", "tenure": "가입기간", "Contract": "계약유형"}
    )
    at = _upload(_batch_page(), "고객.csv", korean.to_csv(index=False, sep=";").encode("cp949"))
    captions = _texts(at.caption)
    assert "CP949 (EUC-KR)" in captions and t("upload.sep_semicolon", "ko") in captions
    assert "고객ID → customerID" in captions and "계약유형 → Contract" in captions
    assert not at.error and any(str(ROWS) in s.value for s in at.success)
    assert list(_scored(at)["customer_id"]) == list(shipped["customerID"])


def test_xlsx_with_lower_case_yes_no_is_scored_with_a_counted_note(shipped) -> None:
    typed = shipped.copy()
    typed["Partner"] = typed["Partner"].str.lower()  # yes / no
    for column in ("tenure", "MonthlyCharges", "Age"):
        typed[column] = pd.to_numeric(typed[column])
    buffer = io.BytesIO()
    typed.to_excel(buffer, index=False, sheet_name="고객")
    at = _upload(_batch_page(), "고객.xlsx", buffer.getvalue())
    assert "고객" in _texts(at.caption) and "Excel" in _texts(at.caption)
    note = _texts(at.info)
    assert "Partner" in note and f"{ROWS}" in note  # every Partner cell was lower-case
    assert not at.error and any(str(ROWS) in s.value for s in at.success)


def test_missing_column_mapping_step_preselects_and_saves(shipped, mapping_store) -> None:
    renamed = shipped.rename(columns={"Contract": "계약 형태"})  # no alias, but close to 계약유형
    data = renamed.to_csv(index=False).encode()
    at = _upload(_batch_page(), "mapped.csv", data)
    assert "Contract" in _texts(at.error) and not at.success
    pick = at.selectbox(key="score_map_Contract")
    assert pick.value == "계약 형태"  # the best-matching header preselected
    at.checkbox(key="score_map_save").check()
    _button(at, t("upload.use_mapping", "ko")).click().run()
    assert not at.exception, at.exception
    assert not at.error and any(str(ROWS) in s.value for s in at.success)
    assert saved_mapping(renamed.columns, "scoring", mapping_store) == {"계약 형태": "Contract"}

    again = _upload(_batch_page(), "next_month.csv", data)  # a new session: the saved mapping is used at once
    assert t("upload.mapping_applied", "ko") in _texts(again.caption)
    assert not again.error and any(str(ROWS) in s.value for s in again.success)


def test_an_unmappable_column_stays_a_clear_error(shipped) -> None:
    at = _upload(
        _batch_page(), "unmapped.csv", shipped.rename(columns={"Contract": "비고"}).to_csv(index=False).encode()
    )
    assert "Contract" in _texts(at.error)
    pick = at.selectbox(key="score_map_Contract")
    assert pick.value is None and pick.options[0] == t("upload.not_in_file", "ko")  # nothing resembles it
    _button(at, t("upload.use_mapping", "ko")).click().run()
    assert "Contract" in _texts(at.error) and not at.success and "churn_scores.csv" not in _downloads(at)


def test_a_refused_file_offers_its_problem_list(shipped) -> None:
    at = _upload(_batch_page(), "no_contract.csv", shipped.drop(columns=["Contract"]).to_csv(index=False).encode())
    assert at.error and not at.success
    assert t("upload.download_problems", "ko") in _downloads(at)


def test_some_bad_rows_score_the_valid_ones_and_download_the_rejected(shipped) -> None:
    bad = shipped.copy()
    bad.loc[[3, 17], "Contract"] = ["Forever", "Weekly"]
    at = _upload(_batch_page(), "partly_bad.csv", bad.to_csv(index=False).encode())
    assert "2" in _texts(at.error) and str(ROWS) in _texts(at.error) and not at.success
    assert {t("upload.download_problems", "ko"), t("upload.download_rejected", "ko")} <= set(_downloads(at))
    _button(at, t("upload.score_valid", "ko", n=ROWS - 2)).click().run()
    assert not at.exception, at.exception
    assert any(str(ROWS - 2) in s.value for s in at.success)
    scored = _scored(at)
    assert len(scored) == ROWS - 2 and not set(scored["customer_id"]) & set(bad.loc[[3, 17], "customerID"])
    assert t("upload.download_rejected", "ko") in _downloads(at)  # still there after scoring
    at.slider(key="econ_success").set_value(0.6).run()  # a rerun keeps the choice
    assert len(_scored(at)) == ROWS - 2


def test_the_progress_bar_does_not_stay_after_an_error(shipped, monkeypatch) -> None:
    def failing(*args, **kwargs):
        raise RuntimeError("scoring failed")

    at = _batch_page()
    monkeypatch.setattr(scoring, "score_and_explain", failing)
    at.file_uploader(key="score_upload").set_value(("x.csv", shipped.to_csv(index=False).encode(), "text/csv")).run()
    assert at.exception  # the error is shown …
    assert not at.get("progress")  # … and "scoring…" is gone
