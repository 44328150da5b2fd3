"""Limits on uploaded files: size and rows, checked before a file is parsed.

Every page that takes a file (customers to score, a contact book) calls
:func:`check_upload` first: a file over the size limit (``CHURN_MAX_UPLOAD_MB``) or with
more data rows than the row limit (``CHURN_MAX_UPLOAD_ROWS``) is refused with an
:class:`UploadLimitError` that names the limit and the file's size or rows, and nothing
of it is read further. ``UploadLimitError`` is a
:class:`~churn_core.data.loading.DataValidationError`, so code that shows validation
problems shows this one too.
"""

from __future__ import annotations

import csv
import io
from typing import Literal

import pandas as pd

from churn_core.config import get_settings
from churn_core.data.loading import DataValidationError

#: Bytes in one MB as Streamlit counts ``server.maxUploadSize`` (MiB).
MB = 1024 * 1024


class UploadLimitError(DataValidationError):
    """An uploaded file is over the size or row limit.

    Attributes
    ----------
    kind : {"size", "rows"}
        Which limit was passed.
    actual : int
        The file's size in bytes (``"size"``) or its data rows (``"rows"``).
    limit : int
        The limit in the same unit (bytes or rows).
    """

    def __init__(self, source: str, kind: Literal["size", "rows"], actual: int, limit: int):
        self.kind, self.actual, self.limit = kind, actual, limit
        if kind == "size":
            reason = (
                f"the file is {actual / MB:,.1f} MB; at most {limit / MB:,.0f} MB may be uploaded (CHURN_MAX_UPLOAD_MB)"
            )
        else:
            reason = f"the file has {actual:,} data rows; at most {limit:,} may be uploaded (CHURN_MAX_UPLOAD_ROWS)"
        problems = pd.DataFrame([{"column": "<file>", "reason": reason, "lines": [], "examples": []}])
        super().__init__(source, problems)


def count_csv_rows(data: bytes) -> int:
    """Data rows of a CSV file (records after the header; blank lines skipped, as pandas does).

    Quoted fields may hold line breaks: records are counted with :mod:`csv`, not lines.
    Undecodable bytes are replaced (this only counts; validation reports them).

    Returns
    -------
    int
        0 for an empty file or a header alone.
    """
    text = data.decode("utf-8-sig", errors="replace")
    records = sum(1 for record in csv.reader(io.StringIO(text, newline="")) if record)
    return max(0, records - 1)


def check_upload(
    data: bytes,
    source: str = "<upload>",
    max_mb: float | None = None,
    max_rows: int | None = None,
) -> None:
    """Refuse an upload over the size or row limit, before anything parses it.

    Parameters
    ----------
    data : bytes
        The uploaded file (CSV, UTF-8).
    source : str
        The file's name, for the error.
    max_mb : float, optional
        Size limit in MB (MiB); default ``Settings.max_upload_mb``.
    max_rows : int, optional
        Row limit (data rows, header excluded); default ``Settings.max_upload_rows``.

    Raises
    ------
    UploadLimitError
        ``kind="size"`` when ``len(data)`` exceeds ``max_mb`` MB, ``kind="rows"`` when the
        file holds more than ``max_rows`` data rows; ``actual`` and ``limit`` give the numbers.
    """
    settings = get_settings()
    max_bytes = int((settings.max_upload_mb if max_mb is None else max_mb) * MB)
    max_rows = settings.max_upload_rows if max_rows is None else max_rows
    if len(data) > max_bytes:
        raise UploadLimitError(source, "size", len(data), max_bytes)
    physical_lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if physical_lines - 1 <= max_rows:  # records never outnumber lines: no need to parse
        return
    rows = count_csv_rows(data)
    if rows > max_rows:
        raise UploadLimitError(source, "rows", rows, max_rows)
