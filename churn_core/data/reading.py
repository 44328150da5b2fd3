"""Reading customer files as people have them: any usual CSV, or an Excel workbook.

A file arrives as bytes from an upload, the command line or the warehouse build. This module
turns it into a table of **text cells** (every cell a stripped ``str`` or ``NA``; index ``i`` is
file line / Excel row ``i + 2``, the header being line 1), and says what it found:

- **Excel** (``.xlsx``, ``.xlsm``; recognised by content, not by name) is read with
  ``python-calamine``: the first sheet unless one is chosen; numbers come back as they look
  (``2`` not ``2.0``), dates as ``YYYY-MM-DD``.
- **CSV**: the encoding is detected: UTF-8 with or without a byte-order mark, UTF-16 (Excel's
  "Unicode text", with its BOM or without), CP949 / EUC-KR (Korean Excel's "CSV"); the latter
  two with ``charset-normalizer`` limited to those encodings, so a file in any other encoding
  is refused with the line of its first bad byte rather than read as gibberish. The separator
  (comma, semicolon or tab) is detected with ``clevercsv`` on the first 32 kB.

Headers are matched to the columns a caller wants with :func:`match_columns`: exactly, then by
a saved mapping, then ignoring case, spaces, underscores, hyphens and a trailing unit in
parentheses, directly or through the aliases of :mod:`churn_core.data.schema`
(:data:`~churn_core.data.schema.COLUMN_ALIASES`, Korean names included). Columns still missing
get the best-matching unused header as a suggestion, and a mapping the user confirms can be
saved (:func:`save_mapping`) for the next file with the same headers.

:func:`partition_rows` splits a table whose problems are all row-level into the rows that pass
and the rejected rows with their reasons, so that a file with a few bad rows can still be used.

Stable entry points for other readers of customer files (scoring, contact imports, the
warehouse build and ingest): :func:`read_table`, :func:`read_table_chunks`,
:func:`canonical_columns`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import hashlib
import io
import json
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from churn_core.data.loading import FIRST_DATA_LINE, DataValidationError, clean_text_cells
from churn_core.data.schema import COLUMN_ALIASES, RAW_COLUMNS

#: Separators a CSV file may use, in order of preference when detection is undecided.
SEPARATORS: tuple[str, ...] = (",", ";", "\t")
#: Encodings tried after UTF-8 (charset-normalizer picks the one that reads as text).
FALLBACK_ENCODINGS: tuple[str, ...] = ("cp949", "euc_kr", "utf_16_le", "utf_16_be")
#: How each detected encoding is shown to users.
ENCODING_LABELS: dict[str, str] = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16": "UTF-16",
    "utf_16_le": "UTF-16",
    "utf_16_be": "UTF-16",
    "cp949": "CP949 (EUC-KR)",
    "euc_kr": "CP949 (EUC-KR)",
}
#: How each separator is shown to users (names, since a tab or ";" is easy to miss).
SEPARATOR_NAMES: dict[str, str] = {",": "comma", ";": "semicolon", "\t": "tab"}
#: Rows per chunk when a caller asks for the whole table at once.
_WHOLE = 1 << 62
_SNIFF_BYTES = 32_768
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_MAX_SAVED_MAPPINGS = 200
#: Most headers, and longest header (characters), a saved mapping may have; larger files are not saved.
MAX_MAPPING_HEADERS = 300
MAX_MAPPING_HEADER_CHARS = 200
#: Widest workbook sheet read, in columns: a wider sheet is refused before its cells are read.
MAX_EXCEL_COLUMNS = 1_000
#: Bytes of a worksheet's XML read to find its ``<dimension ref="A1:U7044"/>`` (it comes first).
_DIMENSION_BYTES = 65_536


def _problem(reason: str, column: str = "<file>") -> pd.DataFrame:
    return pd.DataFrame([{"column": column, "reason": reason, "lines": [], "examples": []}])


@dataclass(frozen=True)
class ReadResult:
    """A file read as text cells, and what was detected about it.

    Attributes
    ----------
    frame : pandas.DataFrame of shape (n_rows, n_columns)
        The file's headers as they are; every cell a stripped ``str`` or ``NA``; index ``i`` is
        line (CSV) or row (Excel) ``i + 2``. For :func:`read_table_chunks`, one chunk.
    source : str
        The file's name, used in errors.
    kind : {"csv", "excel"}
        What the file is (from its content).
    encoding : str or None
        Python codec of a CSV file (``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``, ``"cp949"`` …);
        None for Excel. :data:`ENCODING_LABELS` names it for users.
    separator : str or None
        ``","``, ``";"`` or ``"\\t"`` for CSV; None for Excel.
    sheet : str or None
        The sheet read from a workbook.
    sheets : tuple of str
        Every sheet of the workbook (empty for CSV).
    """

    frame: pd.DataFrame
    source: str
    kind: Literal["csv", "excel"]
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = ()

    @property
    def headers(self) -> tuple[str, ...]:
        """The file's column headers, in file order."""
        return tuple(str(c) for c in self.frame.columns)

    @property
    def encoding_label(self) -> str | None:
        """The encoding as users know it (``"CP949 (EUC-KR)"``), or None for Excel."""
        return None if self.encoding is None else ENCODING_LABELS.get(self.encoding, self.encoding.upper())


# -- encodings and separators ---------------------------------------------------------------------
def detect_encoding(data: bytes, source: str = "<upload>") -> str:
    """The encoding of CSV bytes: UTF-8 (± BOM), UTF-16 (± BOM) or CP949 / EUC-KR.

    Parameters
    ----------
    data : bytes
        The file's content (not empty).
    source : str
        The file's name, for the error.

    Returns
    -------
    str
        A Python codec name: ``"utf-8-sig"``, ``"utf-16"``, ``"utf-8"``, or one of
        :data:`FALLBACK_ENCODINGS`.

    Raises
    ------
    DataValidationError
        If the bytes read as none of them; names the line of the first byte that is not UTF-8.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    else:
        return "utf-8"
    import charset_normalizer

    best = charset_normalizer.from_bytes(data, cp_isolation=list(FALLBACK_ENCODINGS)).best()
    if best is not None and "\x00" not in str(best)[:_SNIFF_BYTES]:
        return best.encoding
    try:  # a Korean file with one bad byte: name that byte's line, not the first Korean header's
        data.decode("cp949")
    except UnicodeDecodeError as exc:
        first_bad = max(first_bad, exc.start)
    line = data[:first_bad].count(b"\n") + 1
    reason = (
        f"the file is not UTF-8 (byte {first_bad} cannot be decoded), nor CP949/EUC-KR or UTF-16; "
        "save it as UTF-8 CSV (Excel: 'CSV UTF-8') or as an Excel workbook"
    )
    raise DataValidationError(
        source, pd.DataFrame([{"column": "<file>", "reason": reason, "lines": [line], "examples": []}])
    )


def detect_separator(text: str) -> str:
    """The separator of CSV text: comma, semicolon or tab (clevercsv on the first 32 kB).

    A sample of whole lines is sniffed with the candidates of :data:`SEPARATORS` only (clevercsv
    scores each by how regular the rows are and how typed the cells look, so the comma inside a
    ``"33.96, -118.27"`` cell of a semicolon file does not fool it). An undecided sniff (one column,
    one line) gives the comma.

    Returns
    -------
    str
        One of :data:`SEPARATORS`.
    """
    import clevercsv

    sample = text[:_SNIFF_BYTES]
    if len(text) > _SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    try:
        dialect = clevercsv.Sniffer().sniff(sample, delimiters=list(SEPARATORS))
    except clevercsv.Error:
        dialect = None
    delimiter = getattr(dialect, "delimiter", None)
    return delimiter if delimiter in SEPARATORS else SEPARATORS[0]


def decode_text(data: bytes, source: str = "<upload>") -> tuple[str, str]:
    """Decode CSV bytes in their detected encoding (:func:`detect_encoding`).

    Returns
    -------
    (str, str)
        The text (without a byte-order mark) and the codec used.

    Raises
    ------
    DataValidationError
        If the file is empty or in no supported encoding.
    """
    if not data.strip():
        raise DataValidationError(source, _problem("the file is empty"))
    encoding = detect_encoding(data, source)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise DataValidationError(source, _problem("the file is empty"))
    return text, encoding


# -- reading --------------------------------------------------------------------------------------
def is_excel(data: bytes) -> bool:
    """Whether the bytes are a workbook (a zip container such as ``.xlsx``, or an OLE ``.xls``)."""
    return data.startswith((_XLSX_MAGIC, _XLS_MAGIC))


def read_table(
    data: bytes, source: str = "<upload>", sheet: str | None = None, max_rows: int | None = None
) -> ReadResult:
    """Read a CSV file or an Excel workbook into text cells, detecting its format.

    Parameters
    ----------
    data : bytes
        The file's content: CSV (UTF-8 ± BOM, UTF-16, CP949 / EUC-KR; comma, semicolon or tab)
        or an Excel workbook.
    source : str
        The file's name, used in errors.
    sheet : str, optional
        The sheet of a workbook (default: the first); ignored for CSV.
    max_rows : int, optional
        Most data rows a workbook sheet may have (default ``Settings.max_upload_rows``); checked
        from the sheet's dimensions before its cells are read (CSV files are checked by
        :func:`churn_core.data.uploads.check_upload`).

    Returns
    -------
    ReadResult
        ``frame`` of shape (n_rows, n_columns), text cells, index ``i`` = line ``i + 2``; the
        detected encoding, separator, sheet and the workbook's sheets.

    Raises
    ------
    DataValidationError
        An empty file, a header without data rows, an unsupported encoding (with the line of the
        first bad byte), unparseable CSV, an unreadable workbook, an unknown sheet or a sheet
        wider than :data:`MAX_EXCEL_COLUMNS`.
    churn_core.data.uploads.UploadLimitError
        A sheet with more than ``max_rows`` rows below its header (``kind="rows"``).
    """
    parts = list(read_table_chunks(data, source, _WHOLE, sheet, max_rows))
    frame = parts[0].frame if len(parts) == 1 else pd.concat([p.frame for p in parts])
    return replace(parts[0], frame=frame)


def read_table_chunks(
    data: bytes,
    source: str = "<upload>",
    chunk_rows: int = 100_000,
    sheet: str | None = None,
    max_rows: int | None = None,
) -> Iterator[ReadResult]:
    """:func:`read_table` in chunks of at most ``chunk_rows`` rows (bounded memory for large CSV files).

    Detection is done once; every chunk's ``frame`` keeps the running index (``i`` = line
    ``i + 2``) and the same headers. Errors are raised before the first chunk when the file
    cannot be read at all, and at the end when it has no data rows.

    Yields
    ------
    ReadResult
        One chunk each (non-empty ``frame``).
    """
    excel = is_excel(data)
    if excel:
        chunks = _excel_chunks(data, source, chunk_rows, sheet, max_rows)
    else:
        chunks = _csv_chunks(data, source, chunk_rows)
    rows = 0
    for chunk in chunks:
        if chunk.frame.empty:
            continue
        rows += len(chunk.frame)
        yield chunk
    if rows == 0:
        raise DataValidationError(source, _problem("the file has a header but no data rows"))


def _csv_chunks(data: bytes, source: str, chunk_rows: int) -> Iterator[ReadResult]:
    text, encoding = decode_text(data, source)
    separator = detect_separator(text)
    info = ReadResult(pd.DataFrame(), source, "csv", encoding, separator)
    options = {"sep": separator, "dtype": str, "keep_default_na": False, "na_values": []}
    try:
        if chunk_rows >= _WHOLE:
            reader: Iterable[pd.DataFrame] = [pd.read_csv(io.StringIO(text), **options)]
        else:
            reader = pd.read_csv(io.StringIO(text), chunksize=chunk_rows, **options)
        for chunk in reader:
            yield replace(info, frame=clean_text_cells(chunk) if len(chunk) else chunk)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataValidationError(source, _problem(f"not a readable CSV file: {exc}")) from exc


def cell_text(value) -> str | None:
    """One workbook cell as the text it shows: ``2.0`` → ``"2"``, a date → ``"2024-05-01"``, blank → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _unique_headers(cells: Sequence) -> list[str]:
    names, seen = [], {}
    for i, cell in enumerate(cells):
        name = cell_text(cell) or f"Unnamed: {i}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}.{count}")
    return names


def _cell_position(ref: str) -> tuple[int, int]:
    """``"U7044"`` → (7044, 21): row and column numbers (1-based) of an A1-style reference."""
    letters = ref.rstrip("0123456789")
    column = 0
    for ch in letters.upper():
        column = column * 26 + ord(ch) - ord("A") + 1
    return int(ref[len(letters) :] or 0), column


def xlsx_dimension(data: bytes, sheet_index: int) -> tuple[int, int] | None:
    """Rows and columns (from A1, header included) an ``.xlsx`` sheet declares, read before its cells.

    Only the workbook's sheet list, its relationships and the first bytes of the sheet's XML are
    decompressed (the ``<dimension ref="A1:U7044"/>`` element precedes the cells).

    Parameters
    ----------
    data : bytes
        The workbook (a zip container).
    sheet_index : int
        Position of the sheet in the workbook's sheet order.

    Returns
    -------
    tuple of (int, int) or None
        (last row, last column), 1-based; None when the container or the element is missing
        (an ``.xls`` file, or a writer that leaves it out).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            book = zf.open("xl/workbook.xml").read(1 << 20).decode("utf-8", "replace")
            rels = zf.open("xl/_rels/workbook.xml.rels").read(1 << 20).decode("utf-8", "replace")
            ids = re.findall(r"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", book)
            if sheet_index >= len(ids):
                return None
            targets = dict(
                (m.group("id"), m.group("target"))
                for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", rels)
                if (m := re.search(r"(?=.*\bId=\"(?P<id>[^\"]+)\")(?=.*\bTarget=\"(?P<target>[^\"]+)\")", tag))
            )
            target = targets.get(ids[sheet_index])
            if target is None:
                return None
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            head = zf.open(member).read(_DIMENSION_BYTES).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None
    found = re.search(r"<(?:\w+:)?dimension\b[^>]*\bref=\"([A-Za-z]+\d+)(?::([A-Za-z]+\d+))?\"", head)
    if found is None:
        return None
    return _cell_position(found.group(2) or found.group(1))


def _check_sheet_size(source: str, name: str, rows: int, columns: int, max_rows: int) -> None:
    """Refuse a sheet of ``rows`` rows (header included) and ``columns`` columns over the limits."""
    from churn_core.data.uploads import UploadLimitError

    if rows - 1 > max_rows:
        raise UploadLimitError(source, "rows", rows - 1, max_rows)
    if columns > MAX_EXCEL_COLUMNS:
        reason = f"the sheet {name!r} is {columns:,} columns wide; at most {MAX_EXCEL_COLUMNS:,} are read"
        raise DataValidationError(source, _problem(reason))


def _excel_chunks(
    data: bytes, source: str, chunk_rows: int, sheet: str | None, max_rows: int | None = None
) -> Iterator[ReadResult]:
    from python_calamine import CalamineError, CalamineWorkbook

    if max_rows is None:
        from churn_core.config import get_settings

        max_rows = get_settings().max_upload_rows
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = tuple(book.sheet_names)
        name = sheets[0] if sheet is None and sheets else sheet
        if name not in sheets:
            raise DataValidationError(source, _problem(f"the workbook has no sheet {name!r}; it has {list(sheets)}"))
        declared = xlsx_dimension(data, sheets.index(name))  # before calamine reads the sheet's cells
        if declared is not None:
            _check_sheet_size(source, name, *declared, max_rows)
        found = book.get_sheet_by_name(name)
        if found.end is not None:  # what the cells say (an .xls file, a missing or wrong dimension)
            _check_sheet_size(source, name, found.end[0] + 1, found.end[1] + 1, max_rows)
        rows = found.to_python(skip_empty_area=False)
    except CalamineError as exc:
        raise DataValidationError(source, _problem(f"not a readable Excel workbook: {exc}")) from exc
    info = ReadResult(pd.DataFrame(), source, "excel", sheet=name, sheets=sheets)
    if not rows or all(cell_text(c) is None for c in rows[0]):
        raise DataValidationError(source, _problem("the file is empty"))
    columns = _unique_headers(rows[0])
    width = len(columns)
    for start in range(1, len(rows), chunk_rows):
        batch, index = [], []
        for offset, row in enumerate(rows[start : start + chunk_rows]):
            cells = [cell_text(c) for c in row[:width]] + [None] * (width - len(row))
            if any(c is not None for c in cells):  # blank rows are skipped; row numbers stay the sheet's
                batch.append(cells)
                index.append(start + offset - 1)
        yield replace(info, frame=_excel_frame(batch, columns, index))


def _excel_frame(batch: list[list], columns: list[str], index: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame(batch, columns=columns, index=pd.Index(index, dtype="int64"), dtype=object)
    blank_unnamed = [c for c in columns if c.startswith("Unnamed: ") and frame[c].isna().all()]
    frame = frame.drop(columns=blank_unnamed)
    return frame.where(frame.notna(), np.nan)


# -- column matching ------------------------------------------------------------------------------
def header_key(name: str) -> str:
    """A header as compared: NFKC, case-folded, without a trailing ``(unit)`` and without spaces, ``_`` or ``-``.

    ``"Monthly Charges"``, ``"monthly_charges"`` and ``"MONTHLYCHARGES"`` share a key, as do
    ``"가입 기간 (개월)"`` and ``"가입기간"``.
    """
    text = unicodedata.normalize("NFKC", str(name)).strip().casefold()
    text = re.sub(r"\s*\([^()]*\)$", "", text) or text
    return re.sub(r"[\s_\-]+", "", text)


@dataclass(frozen=True)
class ColumnMatch:
    """How a file's headers map to the columns a caller wants.

    Attributes
    ----------
    mapping : dict of str to str
        File header → wanted column, for every header that matched (exact matches included).
    missing : tuple of str
        Wanted columns that no header matched, in ``wanted`` order.
    suggestions : dict of str to (str or None)
        For each missing column, the unused header that resembles it most (or None): what a
        mapping step preselects. No header is suggested twice.
    unused : tuple of str
        Headers that matched nothing (kept in the table, ignored by validation).
    saved : bool
        Whether a saved mapping for these headers was applied.
    """

    mapping: dict[str, str]
    missing: tuple[str, ...]
    suggestions: dict[str, str | None] = field(default_factory=dict)
    unused: tuple[str, ...] = ()
    saved: bool = False

    @property
    def renamed(self) -> dict[str, str]:
        """The matches that were not exact (header → column): worth telling the user."""
        return {h: c for h, c in self.mapping.items() if h != c}

    @property
    def complete(self) -> bool:
        """Whether every wanted column has a header."""
        return not self.missing


def _keys(column: str, aliases: Mapping[str, Sequence[str]]) -> list[str]:
    return [header_key(column), *(header_key(a) for a in aliases.get(column, ()))]


def match_columns(
    headers: Iterable[str],
    wanted: Sequence[str],
    aliases: Mapping[str, Sequence[str]] | None = None,
    saved: Mapping[str, str] | None = None,
    required: Sequence[str] | None = None,
) -> ColumnMatch:
    """Match a file's headers to the ``wanted`` columns.

    Order: an exact header; then ``saved`` (a mapping the user confirmed, header → column); then
    the same :func:`header_key` as the column or one of its ``aliases``. Each header and each
    column is used once (the first header in file order wins).

    Parameters
    ----------
    headers : iterable of str
        The file's headers.
    wanted : sequence of str
        Canonical column names (e.g. :data:`churn_core.data.schema.RAW_COLUMNS`).
    aliases : mapping of str to sequence of str, optional
        Other names per column; default :data:`churn_core.data.schema.COLUMN_ALIASES`.
    saved : mapping of str to str, optional
        A saved or chosen mapping, header → column (entries for absent headers are ignored).
    required : sequence of str, optional
        The columns reported as ``missing`` (default: all of ``wanted``).

    Returns
    -------
    ColumnMatch
    """
    aliases = COLUMN_ALIASES if aliases is None else aliases
    headers = [str(h) for h in headers]
    wanted_set = set(wanted)
    mapping: dict[str, str] = {}
    taken: set[str] = set()

    def take(header: str, column: str) -> None:
        if header not in mapping and column in wanted_set and column not in taken:
            mapping[header] = column
            taken.add(column)

    for h in headers:
        if h in wanted_set:
            take(h, h)
    used_saved = False
    for h in headers:
        if saved and h in saved and saved[h] not in headers:
            before = len(mapping)
            take(h, saved[h])
            used_saved |= len(mapping) > before
    index: dict[str, str] = {}
    for column in wanted:
        for key in _keys(column, aliases):
            index.setdefault(key, column)
    for h in headers:
        column = index.get(header_key(h))
        if column is not None:
            take(h, column)
    report = list(wanted if required is None else required)
    missing = tuple(c for c in report if c not in taken)
    unused = tuple(h for h in headers if h not in mapping)
    return ColumnMatch(mapping, missing, _suggest(missing, unused, aliases), unused, used_saved)


def _suggest(missing: Sequence[str], unused: Sequence[str], aliases: Mapping[str, Sequence[str]]) -> dict:
    scored = []
    for column in missing:
        keys = _keys(column, aliases)
        for h in unused:
            hk = header_key(h)
            score = max(difflib.SequenceMatcher(None, hk, k).ratio() for k in keys)
            if score >= 0.6:
                scored.append((score, column, h))
    suggestions: dict[str, str | None] = dict.fromkeys(missing)
    used: set[str] = set()
    for _, column, h in sorted(scored, key=lambda s: -s[0]):
        if suggestions[column] is None and h not in used:
            suggestions[column] = h
            used.add(h)
    return suggestions


def apply_columns(frame: pd.DataFrame, match: ColumnMatch) -> pd.DataFrame:
    """Rename the matched headers of ``frame`` to their columns (others stay as they are)."""
    return frame.rename(columns=match.renamed) if match.renamed else frame


def canonical_columns(
    frame: pd.DataFrame, wanted: Sequence[str] = RAW_COLUMNS, saved: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, ColumnMatch]:
    """Give every header that matches one of ``wanted`` (:func:`match_columns`) its canonical name.

    Returns
    -------
    (pandas.DataFrame, ColumnMatch)
        The table renamed (same cells, same index) and how its headers matched.
    """
    match = match_columns(frame.columns, wanted, saved=saved)
    return apply_columns(frame, match), match


# -- saved mappings -------------------------------------------------------------------------------
def mapping_key(headers: Iterable[str], purpose: str) -> str:
    """Key of a saved mapping: the purpose (``"scoring"``, ``"contacts"``) and the file's set of headers."""
    joined = "\x1f".join(sorted({str(h) for h in headers}))
    return hashlib.sha256(f"{purpose}\x1e{joined}".encode()).hexdigest()


def _store_path(path: Path | None) -> Path:
    if path is not None:
        return Path(path)
    from churn_core.config import get_settings

    return get_settings().column_mappings_file


def can_save_mapping(headers: Iterable[str]) -> bool:
    """Whether a mapping for these headers may be saved: at most :data:`MAX_MAPPING_HEADERS` distinct
    headers of at most :data:`MAX_MAPPING_HEADER_CHARS` characters each."""
    distinct = {str(h) for h in headers}
    return len(distinct) <= MAX_MAPPING_HEADERS and all(len(h) <= MAX_MAPPING_HEADER_CHARS for h in distinct)


def _read_store(path: Path) -> dict:
    try:
        store = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(store, dict):
        return {}
    return {  # entries over the caps (an edited or older store) are dropped, not carried on
        k: v for k, v in store.items()
        if isinstance(v, dict) and isinstance(v.get("headers"), list) and can_save_mapping(v["headers"])
    }  # fmt: skip


def saved_mapping(headers: Iterable[str], purpose: str, path: Path | None = None) -> dict[str, str] | None:
    """The mapping saved for a file with exactly these headers, or None.

    Parameters
    ----------
    headers : iterable of str
        The file's headers.
    purpose : str
        What the file is for (``"scoring"``, ``"contacts"``).
    path : Path, optional
        The store (default ``Settings.column_mappings_file``).

    Returns
    -------
    dict of str to str or None
        Header → column.
    """
    headers = [str(h) for h in headers]
    if not can_save_mapping(headers):
        return None
    entry = _read_store(_store_path(path)).get(mapping_key(headers, purpose))
    mapping = entry.get("mapping") if isinstance(entry, dict) else None
    return {str(k): str(v) for k, v in mapping.items()} if isinstance(mapping, dict) else None


def save_mapping(headers: Iterable[str], mapping: Mapping[str, str], purpose: str, path: Path | None = None) -> Path:
    """Save a confirmed mapping (header → column) for files with these headers.

    The store is a JSON file written atomically (temporary file, then rename); it keeps the
    latest :data:`_MAX_SAVED_MAPPINGS` entries, each of at most :data:`MAX_MAPPING_HEADERS` headers
    of at most :data:`MAX_MAPPING_HEADER_CHARS` characters (:func:`can_save_mapping`).

    Returns
    -------
    Path
        The store written.

    Raises
    ------
    ValueError
        If the headers are over those caps (nothing is written).
    """
    headers = sorted({str(h) for h in headers})
    if not can_save_mapping(headers):
        raise ValueError(
            f"a mapping is saved for at most {MAX_MAPPING_HEADERS} headers of at most "
            f"{MAX_MAPPING_HEADER_CHARS} characters; this file has {len(headers)}"
        )
    target = _store_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    store = _read_store(target)
    store.pop(mapping_key(headers, purpose), None)
    store[mapping_key(headers, purpose)] = {
        "purpose": purpose,
        "headers": headers,
        "mapping": {str(k): str(v) for k, v in mapping.items() if str(k) in headers},
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    store = dict(list(store.items())[-_MAX_SAVED_MAPPINGS:])
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(store, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# -- rows that pass, rows that do not -------------------------------------------------------------
@dataclass(frozen=True)
class RowCheck:
    """A table validated row by row: what passed, what was rejected and why.

    Attributes
    ----------
    valid : pandas.DataFrame
        What ``validate`` returned for the rows without problems (empty if none passed).
    rejected : pandas.DataFrame
        The rejected rows as read (text cells), with ``line`` (file line or Excel row) first and
        ``problems`` (``"column: reason"``, ``"; "``-joined) last.
    problems : pandas.DataFrame
        The problems found (:attr:`DataValidationError.problems`); empty when every row passed.
    n_rows : int
        Rows checked.
    """

    valid: pd.DataFrame
    rejected: pd.DataFrame
    problems: pd.DataFrame
    n_rows: int


def partition_rows(
    raw: pd.DataFrame, validate: Callable[[pd.DataFrame, str], pd.DataFrame], source: str = "<upload>"
) -> RowCheck:
    """Validate ``raw``; when only some rows break the rules, keep the others and list the rejected ones.

    Parameters
    ----------
    raw : pandas.DataFrame of shape (n_rows, n_columns)
        Text cells, index ``i`` = line ``i + 2`` (:func:`read_table`).
    validate : callable(frame, source) -> pandas.DataFrame
        Raises :class:`DataValidationError` naming lines (e.g.
        :func:`churn_core.prediction.scoring.prepare_for_scoring`).
    source : str
        The file's name.

    Returns
    -------
    RowCheck
        Every row is either validated or rejected with its reasons; nothing is dropped silently.

    Raises
    ------
    DataValidationError
        When a problem concerns the whole file (a missing column, an empty file): no row can be
        used then.
    """
    try:
        return RowCheck(validate(raw, source), raw.iloc[:0].assign(line=[], problems=[]), pd.DataFrame(), len(raw))
    except DataValidationError as exc:
        problems = exc.problems
        if problems.empty or not problems["lines"].map(len).gt(0).all():
            raise
    reasons: dict[int, list[str]] = {}
    for p in problems.itertuples():
        for line in p.lines:
            reasons.setdefault(int(line), []).append(f"{p.column}: {p.reason}")
    lines = pd.Series(raw.index + FIRST_DATA_LINE, index=raw.index)
    bad = lines.isin(reasons.keys())
    rejected = raw[bad].copy()
    rejected.insert(0, "line", lines[bad].astype("int64"))
    rejected["problems"] = ["; ".join(reasons[int(line)]) for line in rejected["line"]]
    good = raw[~bad]
    valid = validate(good, source) if len(good) else pd.DataFrame()
    return RowCheck(valid, rejected, problems, len(raw))
