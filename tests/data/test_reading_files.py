"""Customer files as people have them (issue #13): the shipped file re-saved the ways Excel and
Korean offices save it is read, matched and loaded exactly like the original; what cannot be
matched is a clear error. Every file is made from ``data/raw/telco_customer_churn.csv`` here."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from churn_core.data.loading import DataValidationError, load_customers_bytes, normalise_values
from churn_core.data.reading import (
    header_key,
    match_columns,
    partition_rows,
    read_table,
    save_mapping,
    saved_mapping,
)
from churn_core.data.schema import COLUMN_ALIASES, COLUMNS, CONTACT_COLUMN_ALIASES, KOREAN_COLUMN_NAMES, RAW_COLUMNS

pytestmark = pytest.mark.data

#: Korean headers a Korean office would give the first columns (all built-in aliases).
KOREAN = {"customerID": "고객ID", "gender": "성별", "tenure": "가입기간", "Contract": "계약유형",
          "MonthlyCharges": "월 요금 (USD/월)", "TotalCharges": "총요금"}  # fmt: skip


@pytest.fixture(scope="module")
def shipped(raw_bytes: bytes) -> pd.DataFrame:
    """The shipped file, every cell as its text."""
    return pd.read_csv(io.BytesIO(raw_bytes), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def original(raw_bytes: bytes) -> pd.DataFrame:
    return load_customers_bytes(raw_bytes, "telco_customer_churn.csv")


def as_typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as Excel stores them: numbers as numbers, text as text."""
    out = frame.copy()
    for column in out.columns:
        numbers = pd.to_numeric(out[column], errors="coerce")
        if numbers.notna().all():
            out[column] = numbers
    return out


def xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def test_semicolon_cp949_copy_with_korean_headers_loads_like_the_original(shipped, original) -> None:
    data = shipped.rename(columns=KOREAN).to_csv(index=False, sep=";").encode("cp949")
    read = read_table(data, "고객.csv")
    assert (read.kind, read.encoding_label, read.separator) == ("csv", "CP949 (EUC-KR)", ";")
    assert read.headers[0] == "고객ID" and len(read.frame) == 7043
    pd.testing.assert_frame_equal(load_customers_bytes(data, "고객.csv"), original)


def test_semicolon_copy_and_korean_first_header_were_refused_before(shipped, original) -> None:
    """The two cases of the issue: "every column is missing" and a refused 고객ID."""
    semicolon = shipped.to_csv(index=False, sep=";").encode()
    pd.testing.assert_frame_equal(load_customers_bytes(semicolon, "semi.csv"), original)
    korean_id = shipped.rename(columns={"customerID": "고객ID"}).to_csv(index=False).encode()
    pd.testing.assert_frame_equal(load_customers_bytes(korean_id, "id.csv"), original)


def test_xlsx_copy_loads_like_the_original_and_a_sheet_can_be_chosen(shipped, original) -> None:
    book = xlsx({"customers": as_typed(shipped)})
    read = read_table(book, "customers.xlsx")
    assert (read.kind, read.sheet, read.encoding, read.separator) == ("excel", "customers", None, None)
    assert read.frame.loc[0, "tenure"] == "2" and read.frame.loc[0, "MonthlyCharges"] == "53.85"  # not "2.0"
    pd.testing.assert_frame_equal(load_customers_bytes(book, "customers.xlsx"), original)

    notes = pd.DataFrame({"안내": ["이 통합 문서는 시험용입니다"]})
    two = xlsx({"안내": notes, "customers": as_typed(shipped.head(30))})
    assert read_table(two, "two.xlsx").sheet == "안내"  # first sheet unless chosen
    chosen = read_table(two, "two.xlsx", sheet="customers")
    assert chosen.sheets == ("안내", "customers") and len(chosen.frame) == 30
    with pytest.raises(DataValidationError, match="no sheet 'nope'"):
        read_table(two, "two.xlsx", sheet="nope")


def test_utf16_tab_separated_copy_from_excel_unicode_text(shipped, original) -> None:
    data = shipped.to_csv(index=False, sep="\t").encode("utf-16")
    read = read_table(data, "unicode.txt")
    assert (read.encoding_label, read.separator) == ("UTF-16", "\t")
    pd.testing.assert_frame_equal(load_customers_bytes(data, "unicode.txt"), original)


def test_lower_case_yes_no_are_normalised_and_counted(shipped, original) -> None:
    edited = shipped.copy()
    edited.loc[:9, "Partner"] = edited.loc[:9, "Partner"].str.lower()
    edited.loc[10:14, "PaperlessBilling"] = [f" {v.upper()} " for v in edited.loc[10:14, "PaperlessBilling"]]
    edited.loc[15, "Contract"] = edited.loc[15, "Contract"].lower()  # month-to-month, one year …
    raw = read_table(edited.to_csv(index=False).encode(), "lower.csv").frame
    fixed, notes = normalise_values(raw)
    counts = dict(zip(notes["column"], notes["count"], strict=True))
    assert counts == {"Partner": 10, "PaperlessBilling": 5, "Contract": 1}
    assert set(fixed["Partner"]) == {"Yes", "No"}
    pd.testing.assert_frame_equal(load_customers_bytes(edited.to_csv(index=False).encode()), original)


def test_anything_else_stays_an_error_naming_rows_and_columns(shipped) -> None:
    edited = shipped.copy()
    edited.loc[[3, 8], "Partner"] = ["Y", "ja"]
    edited.loc[5, "Contract"] = "Two-year"
    with pytest.raises(DataValidationError) as info:
        load_customers_bytes(edited.to_csv(index=False).encode(), "odd.csv")
    problems = info.value.problems.set_index("column")
    assert problems.loc["Partner", "lines"] == [5, 10] and problems.loc["Contract", "lines"] == [7]


def test_one_unmappable_column_is_a_clear_error(shipped) -> None:
    renamed = shipped.rename(columns={"Contract": "비고"})
    with pytest.raises(DataValidationError) as info:
        load_customers_bytes(renamed.to_csv(index=False).encode(), "unmapped.csv")
    problems = info.value.problems
    assert list(problems["column"]) == ["Contract"] and "required column is missing" in problems["reason"][0]
    match = match_columns(renamed.columns, RAW_COLUMNS)
    assert match.missing == ("Contract",) and match.suggestions == {"Contract": None} and match.unused == ("비고",)
    near = match_columns(shipped.rename(columns={"Contract": "계약 형태"}).columns, RAW_COLUMNS)
    assert near.missing == ("Contract",) and near.suggestions["Contract"] == "계약 형태"  # preselected in the UI


def test_headers_match_ignoring_case_spaces_underscores_and_units() -> None:
    headers = ["CUSTOMER_ID", " monthly charges ", "Total-Charges", "가입 기간 (개월)", "senior_citizen", "extra"]
    match = match_columns(headers, RAW_COLUMNS, required=["customerID", "MonthlyCharges", "TotalCharges", "tenure"])
    assert match.mapping == {
        "CUSTOMER_ID": "customerID", " monthly charges ": "MonthlyCharges", "Total-Charges": "TotalCharges",
        "가입 기간 (개월)": "tenure", "senior_citizen": "SeniorCitizen",
    }  # fmt: skip
    assert match.complete and match.unused == ("extra",)


def test_every_column_has_a_korean_alias_and_no_alias_is_ambiguous() -> None:
    assert set(KOREAN_COLUMN_NAMES) == {c.raw for c in COLUMNS}
    for aliases in (COLUMN_ALIASES, CONTACT_COLUMN_ALIASES):
        owner: dict[str, str] = {}
        for column, names in aliases.items():
            for key in {header_key(column), *(header_key(n) for n in names)}:
                assert owner.setdefault(key, column) == column, f"{key!r}: {owner[key]} and {column}"


def test_a_saved_mapping_is_found_again_for_the_same_headers(tmp_path) -> None:
    store = tmp_path / "mappings.json"
    headers = ["id", "계약 형태", "요금"]
    assert saved_mapping(headers, "scoring", store) is None
    save_mapping(headers, {"id": "customerID", "계약 형태": "Contract"}, "scoring", store)
    assert saved_mapping(list(reversed(headers)), "scoring", store) == {"id": "customerID", "계약 형태": "Contract"}
    assert saved_mapping(headers, "contacts", store) is None and saved_mapping(headers[:2], "scoring", store) is None
    match = match_columns(headers, RAW_COLUMNS, saved=saved_mapping(headers, "scoring", store))
    assert match.saved and match.mapping == {"id": "customerID", "계약 형태": "Contract"}
    assert json.loads(store.read_text(encoding="utf-8"))  # plain JSON, Korean kept readable


def test_unreadable_and_empty_files_are_named() -> None:
    for data, reason in [
        (b"", "empty"),
        (b"customerID;gender\n", "no data rows"),
        ("customerID,City\n0001,Café\n".encode("latin-1"), "not UTF-8"),
        (b"PK\x03\x04broken zip", "not a readable Excel workbook"),
    ]:
        with pytest.raises(DataValidationError, match=reason):
            read_table(data, "bad")


def test_a_cp949_file_with_one_bad_byte_names_the_line_of_that_byte(shipped) -> None:
    # issue #13 review: the line named was that of the first non-UTF-8 byte (the Korean header, line 1)
    korean = shipped.head(40).rename(columns=KOREAN).to_csv(index=False).encode("cp949")
    at = korean.index(b"\n", korean.index(b"\n" + shipped["customerID"][29].encode()) + 1)  # end of line 31
    with pytest.raises(DataValidationError) as caught:
        read_table(korean[:at] + b"\xff" + korean[at:], "bad.csv")
    assert list(caught.value.problems["lines"][0]) == [31]


def test_rows_with_problems_are_set_apart_with_reasons_and_blank_total_charges_rule(shipped) -> None:
    from churn_core.prediction.scoring import SCORING_RAW_COLUMNS, prepare_for_scoring

    billed = shipped[shipped["tenure"] != "0"].head(40).reset_index(drop=True)[list(SCORING_RAW_COLUMNS)]
    billed.loc[4, "TotalCharges"] = " "  # blank with tenure > 0: refused
    billed.loc[9, "Contract"] = "Forever"
    billed.loc[12, ["tenure", "TotalCharges"]] = ["0", ""]  # blank with tenure 0: not billed yet, accepted
    book = xlsx({"to score": as_typed(billed)})
    raw = read_table(book, "to_score.xlsx").frame
    check = partition_rows(raw, prepare_for_scoring, "to_score.xlsx")
    assert check.n_rows == 40 and len(check.valid) == 38
    assert list(check.rejected["line"]) == [6, 11]  # Excel rows: the header is row 1
    assert "TotalCharges is blank but tenure > 0" in check.rejected["problems"].iloc[0]
    assert check.rejected["problems"].iloc[1].startswith("Contract: value not in")
    assert check.valid.loc[check.valid["customer_id"] == billed.loc[12, "customerID"], "total_charges"].item() == 0.0
    with pytest.raises(DataValidationError, match="Contract"):  # a file-level problem: nothing to keep
        partition_rows(raw.drop(columns=["Contract"]), prepare_for_scoring, "to_score.xlsx")


def test_contact_book_as_xlsx_with_korean_headers() -> None:
    from churn_core.outreach.contacts import validate_contacts

    book = pd.DataFrame(
        {"고객ID": ["7590-VHVEG", "5575-GNVDE"], "이름": ["김하나", "이둘"],
         "휴대폰": ["010-2345-6789", "010-3456-7890"], "문자수신동의": ["Y", "N"],
         "문자수신동의일": [pd.Timestamp("2026-01-05"), None], "이메일수신동의": ["N", "N"], "수신거부": ["N", "N"]}
    )  # fmt: skip
    result = validate_contacts(xlsx({"연락처": book}), {"7590-VHVEG", "5575-GNVDE"}, "연락처.xlsx")
    assert result.problems.empty, result.problems
    assert list(result.contacts["phone_e164"]) == ["+821023456789", "+821034567890"]
    assert result.events["customer_id"].tolist() == ["7590-VHVEG"]  # the dated SMS consent (an Excel date cell)


# -- issue #13 review gaps: a workbook's size is checked before its cells are read; saved mappings capped --
def _workbook(rows: int, columns: int = 3, sheet: str = "customers") -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([f"c{j}" for j in range(columns)])
    for i in range(rows):
        ws.append([i] * columns)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbook_over_the_row_limit_is_refused_before_its_cells_are_read(monkeypatch) -> None:
    from python_calamine import CalamineWorkbook

    from churn_core.config import get_settings
    from churn_core.data.uploads import UploadLimitError

    data = _workbook(rows=30)
    assert len(read_table(data, "ok.xlsx", max_rows=30).frame) == 30  # at the limit: read
    monkeypatch.setenv("CHURN_MAX_UPLOAD_ROWS", "20")
    get_settings.cache_clear()

    def no_cells(self, name):
        raise AssertionError("the sheet's cells were read")

    try:
        with monkeypatch.context() as mp:
            mp.setattr(CalamineWorkbook, "get_sheet_by_name", no_cells)  # the dimension decides first
            with pytest.raises(UploadLimitError) as refused:
                read_table(data, "big.xlsx")  # the configured limit (Settings.max_upload_rows)
        assert (refused.value.kind, refused.value.actual, refused.value.limit) == ("rows", 30, 20)
    finally:
        monkeypatch.delenv("CHURN_MAX_UPLOAD_ROWS")
        get_settings.cache_clear()


def test_a_workbook_without_a_dimension_is_checked_from_the_sheet_before_conversion() -> None:
    import re
    import zipfile

    from churn_core.data.uploads import UploadLimitError

    source = zipfile.ZipFile(io.BytesIO(_workbook(rows=30)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            body = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                body = re.sub(rb"<dimension [^>]*/>", b"", body)
            out.writestr(item, body)
    with pytest.raises(UploadLimitError) as refused:
        read_table(buffer.getvalue(), "no_dimension.xlsx", max_rows=10)
    assert refused.value.actual == 30


def test_a_workbook_wider_than_the_column_cap_is_refused() -> None:
    from churn_core.data.reading import MAX_EXCEL_COLUMNS

    with pytest.raises(DataValidationError, match=f"{MAX_EXCEL_COLUMNS + 1:,} columns wide"):
        read_table(_workbook(rows=1, columns=MAX_EXCEL_COLUMNS + 1), "wide.xlsx")


def test_saved_mappings_are_capped_in_header_count_and_length(tmp_path) -> None:
    from churn_core.data.reading import MAX_MAPPING_HEADER_CHARS, MAX_MAPPING_HEADERS

    store = tmp_path / "mappings.json"
    many = [f"h{i}" for i in range(MAX_MAPPING_HEADERS + 1)]
    long = ["id", "x" * (MAX_MAPPING_HEADER_CHARS + 1)]
    for headers in (many, long):
        with pytest.raises(ValueError, match="at most"):
            save_mapping(headers, {"id": "customerID"}, "scoring", store)
        assert not store.exists() and saved_mapping(headers, "scoring", store) is None
    save_mapping(many[:MAX_MAPPING_HEADERS], {"h0": "customerID"}, "scoring", store)  # at the caps: saved
    assert saved_mapping(many[:MAX_MAPPING_HEADERS], "scoring", store) == {"h0": "customerID"}
    from churn_core.data.reading import mapping_key

    edited = json.loads(store.read_text(encoding="utf-8"))  # an entry over the caps written by hand is ignored
    edited[mapping_key(many, "scoring")] = {"purpose": "scoring", "headers": many, "mapping": {"h0": "customerID"}}
    store.write_text(json.dumps(edited), encoding="utf-8")
    save_mapping(["a"], {"a": "customerID"}, "scoring", store)
    assert mapping_key(many, "scoring") not in json.loads(store.read_text(encoding="utf-8"))
