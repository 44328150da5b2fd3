"""Upload limits: a file over the size or row limit is refused with both numbers, before it is parsed."""

from __future__ import annotations

import tomllib

import pytest

from churn_core.config import PROJECT_ROOT, Settings, get_settings
from churn_core.data.loading import DataValidationError
from churn_core.data.uploads import MB, UploadLimitError, check_upload, count_csv_rows

pytestmark = pytest.mark.unit


def _csv(rows: int, quoted_break: bool = False) -> bytes:
    cell = '"line one\nline two"' if quoted_break else "text"
    return ("customerID,note\n" + "".join(f"C{i},{cell}\n" for i in range(rows))).encode()


def test_rows_are_counted_as_records_not_lines() -> None:
    assert count_csv_rows(_csv(5)) == 5
    assert count_csv_rows(_csv(5, quoted_break=True)) == 5  # 11 lines, 5 records
    assert count_csv_rows(b"a,b\n1,2\n\n\n3,4") == 2  # blank lines skipped, no final newline
    assert count_csv_rows(b"a,b\n") == 0 and count_csv_rows(b"") == 0


def test_a_file_within_the_limits_passes() -> None:
    check_upload(_csv(3), "ok.csv", max_mb=1, max_rows=3)
    check_upload(_csv(3, quoted_break=True), "ok.csv", max_mb=1, max_rows=3)  # more lines than rows: parsed


def test_too_many_rows_names_the_limit_and_the_rows() -> None:
    with pytest.raises(UploadLimitError) as info:
        check_upload(_csv(4, quoted_break=True), "big.csv", max_mb=1, max_rows=3)
    exc = info.value
    assert (exc.kind, exc.actual, exc.limit) == ("rows", 4, 3)
    assert isinstance(exc, DataValidationError) and exc.source == "big.csv"
    assert "4 data rows" in exc.problems.iloc[0]["reason"] and "at most 3" in exc.problems.iloc[0]["reason"]


def test_too_large_names_the_limit_and_the_size() -> None:
    data = b"customerID\n" + b"C-0000000\n" * (MB // 10 + 1)
    with pytest.raises(UploadLimitError) as info:
        check_upload(data, "huge.csv", max_mb=1, max_rows=10**9)
    exc = info.value
    assert (exc.kind, exc.actual, exc.limit) == ("size", len(data), MB)
    assert "1.0 MB" in str(exc) and "at most 1 MB" in str(exc)


def test_limits_default_to_the_settings(monkeypatch) -> None:
    monkeypatch.setenv("CHURN_MAX_UPLOAD_ROWS", "2")
    get_settings.cache_clear()
    try:
        with pytest.raises(UploadLimitError, match="at most 2"):
            check_upload(_csv(3))
        check_upload(_csv(2))
    finally:
        monkeypatch.delenv("CHURN_MAX_UPLOAD_ROWS")
        get_settings.cache_clear()


def test_streamlit_refuses_the_same_size_as_the_settings() -> None:
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    defaults = Settings.model_fields
    assert config["server"]["maxUploadSize"] == defaults["max_upload_mb"].default == 50
    assert defaults["max_upload_rows"].default == 200_000
