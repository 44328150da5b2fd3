"""Broken copies of the real file raise one clear error naming columns, lines and reasons."""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
import pytest

from churn_core.data.loading import DataValidationError, load_customers, load_customers_bytes

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def raw_text_frame(raw_bytes: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw_bytes), dtype=str, keep_default_na=False)


def _broken(frame: pd.DataFrame, edit: Callable[[pd.DataFrame], pd.DataFrame | None]) -> bytes:
    copy = frame.copy()
    result = edit(copy)
    return (copy if result is None else result).to_csv(index=False).encode("utf-8")


def _error(data: bytes) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load_customers_bytes(data, source="broken.csv")
    return info.value


def _problem(err: DataValidationError, column: str) -> pd.Series:
    rows = err.problems[err.problems["column"] == column]
    assert len(rows) == 1, f"expected one problem for {column!r}, got:\n{err}"
    return rows.iloc[0]


def test_missing_column(raw_text_frame: pd.DataFrame) -> None:
    err = _error(_broken(raw_text_frame, lambda df: df.drop(columns=["Contract"])))
    assert "required column is missing" in _problem(err, "Contract").reason
    assert "Contract" in str(err) and "broken.csv" in str(err)


def test_misspelled_column_gets_a_suggestion(raw_text_frame: pd.DataFrame) -> None:
    err = _error(_broken(raw_text_frame, lambda df: df.rename(columns={"MonthlyCharges": "MonthlyCharge"})))
    assert "'MonthlyCharge': misspelled?" in _problem(err, "MonthlyCharges").reason


def test_wrong_type_names_lines_and_values(raw_text_frame: pd.DataFrame) -> None:
    def edit(df):
        df.loc[5, "MonthlyCharges"] = "abc"
        df.loc[40, "tenure"] = "twelve"

    err = _error(_broken(raw_text_frame, edit))
    monthly = _problem(err, "MonthlyCharges")
    assert monthly.lines == [7]  # data row 5 is CSV line 7 (line 1 is the header)
    assert monthly.examples == ["abc"]
    assert "not a valid number" in monthly.reason
    tenure = _problem(err, "tenure")
    assert tenure.lines == [42] and "whole number" in tenure.reason
    assert "CSV line(s) 7" in str(err)


def test_unknown_category_value(raw_text_frame: pd.DataFrame) -> None:
    def edit(df):
        df.loc[[3, 9], "Contract"] = ["Monthly", "Two-year"]

    problem = _problem(_error(_broken(raw_text_frame, edit)), "Contract")
    assert problem.lines == [5, 11]
    assert set(problem.examples) == {"Monthly", "Two-year"}
    assert "Month-to-month" in problem.reason


def test_duplicate_ids(raw_text_frame: pd.DataFrame) -> None:
    def edit(df):
        df.loc[7, "customerID"] = df.loc[8, "customerID"]

    problem = _problem(_error(_broken(raw_text_frame, edit)), "customerID")
    assert "duplicate" in problem.reason
    assert problem.lines == [9, 10]


def test_value_out_of_range_and_blank_required_cell(raw_text_frame: pd.DataFrame) -> None:
    def edit(df):
        df.loc[9, "Age"] = "200"
        df.loc[11, "gender"] = ""

    err = _error(_broken(raw_text_frame, edit))
    assert _problem(err, "Age").lines == [11]
    assert "above 120" in _problem(err, "Age").reason
    assert "blank" in _problem(err, "gender").reason and _problem(err, "gender").lines == [13]


def test_cross_column_rules(raw_text_frame: pd.DataFrame) -> None:
    def edit(df):
        df.loc[12, "churn_rate"] = "1" if df.loc[12, "Churn"] == "No" else "0"
        df.loc[13, "TotalCharges"] = ""  # tenure > 0 on this row

    err = _error(_broken(raw_text_frame, edit))
    rows = err.problems[err.problems["column"] == "<row>"]
    reasons = " ".join(rows["reason"])
    assert "churn_rate and Churn disagree" in reasons and "TotalCharges is blank" in reasons
    assert sorted(line for lines in rows["lines"] for line in lines) == [14, 15]


def test_all_problems_reported_at_once(raw_text_frame: pd.DataFrame) -> None:
    def edit(df):
        df.loc[1, "Contract"] = "Monthly"
        df.loc[2, "MonthlyCharges"] = "n/a"
        df.loc[3, "customerID"] = df.loc[4, "customerID"]

    err = _error(_broken(raw_text_frame, edit))
    assert {"Contract", "MonthlyCharges", "customerID"} <= set(err.problems["column"])
    assert "nothing was loaded" in str(err)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"customerID,gender\n", "no data rows"),
        # CP949 and UTF-16 are read since issue #13 (tests/data/test_reading_files.py); Latin-1 and binary are not
        ("customerID,City\n0001-AAAAA,Café Müller\n".encode("latin-1"), "not UTF-8"),
        (bytes(range(1, 256)) * 8, "not UTF-8"),
    ],
    ids=["zero-bytes", "blank", "header-only", "latin1", "binary"],
)
def test_unreadable_files(data: bytes, reason: str) -> None:
    problem = _problem(_error(data), "<file>")
    assert reason in problem.reason


def test_extra_columns_and_bom_are_accepted_and_nothing_is_dropped(raw_text_frame: pd.DataFrame) -> None:
    data = b"\xef\xbb\xbf" + _broken(raw_text_frame, lambda df: df.assign(note="x"))
    loaded = load_customers_bytes(data)
    assert len(loaded) == len(raw_text_frame) == 7043


def test_load_customers_names_the_file(tmp_path, raw_text_frame: pd.DataFrame) -> None:
    path = tmp_path / "customers_bad.csv"
    path.write_bytes(_broken(raw_text_frame, lambda df: df.drop(columns=["Age"])))
    with pytest.raises(DataValidationError, match=r"customers_bad\.csv"):
        load_customers(path)
