"""Load, validate and enrich the IBM Telco customer file.

The raw file is read with every cell as text, so nothing is converted or dropped behind
the user's back; the declared schema (:data:`churn_core.data.schema.RAW_SCHEMA`, pandera) then
coerces numbers and checks every rule at once. A file that breaks any rule raises one
:class:`DataValidationError` that names each column, the CSV lines and the reason.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa

from churn_core.data.schema import (
    COLUMN_BY_NAME,
    COLUMN_BY_RAW,
    RAW_COLUMNS,
    RAW_SCHEMA,
    RAW_SCHEMAS,
    RENAME,
    SCHEMAS,
    detect_schema,
)

#: Age groups (years), ordered; the last bound is open.
AGE_GROUPS: tuple[str, ...] = ("<30", "30-39", "40-49", "50-59", "60-64", "65-69", "70-79", "80+")
_AGE_EDGES = (-np.inf, 30, 40, 50, 60, 65, 70, 80, np.inf)
#: Tenure bands (months), ordered; yearly bands and an open last band.
TENURE_BANDS: tuple[str, ...] = ("0-12", "13-24", "25-36", "37-48", "49-60", "61-72", "73+")
#: Longest tenure in the IBM sample (months); sliders end there and mean "this or more".
TENURE_MAX_MONTHS: int = 72
_TENURE_EDGES = (-np.inf, 12, 24, 36, 48, 60, 72, np.inf)
#: Age from which a customer is a senior (years), as in IBM's SeniorCitizen flag.
SENIOR_AGE: int = 65
#: Age groups of seniors (every group starts at or above :data:`SENIOR_AGE`).
SENIOR_AGE_GROUPS: tuple[str, ...] = ("65-69", "70-79", "80+")
#: Declared display order of ordinal features; other categorical values keep the schema's order.
LEVEL_ORDER: dict[str, tuple[str, ...]] = {
    "age_group": AGE_GROUPS,
    "tenure_band": TENURE_BANDS,
    "contract": ("Month-to-month", "One year", "Two year"),
}


def allowed_values(column: str) -> tuple[str, ...]:
    """The allowed values of a categorical column in display order (:data:`LEVEL_ORDER`, else the schema's).

    Parameters
    ----------
    column : str
        A warehouse column name (derived ``age_group`` and ``tenure_band`` included).

    Returns
    -------
    tuple of str

    Raises
    ------
    ValueError
        If the column has no declared set of values.
    KeyError
        If the column is unknown.
    """
    if column in LEVEL_ORDER:
        return LEVEL_ORDER[column]
    allowed = COLUMN_BY_NAME[column].allowed
    if allowed is None:
        raise ValueError(f"column {column!r} has no declared set of values")
    return tuple(allowed)


#: Columns :func:`add_derived_columns` adds to the validated raw columns.
DERIVED_COLUMNS: tuple[str, ...] = ("total_charges_was_blank", "is_senior", "age_group", "tenure_band", "n_services")
#: The k-means segment label the studio's warehouse build adds (:mod:`churn_core.studio`).
SEGMENT_COLUMN = "segment"

#: Services counted in ``n_services`` (warehouse names): a service counts when its value
#: is "Yes" (internet: anything but "No"). ``premium_tech_support`` is left out because
#: it repeats ``tech_support`` in this file.
SERVICE_COLUMNS: tuple[str, ...] = (
    "phone_service", "multiple_lines", "internet_service", "online_security", "online_backup",
    "device_protection", "tech_support", "streaming_tv", "streaming_movies", "streaming_music",
    "unlimited_data",
)  # fmt: skip

_log = logging.getLogger(__name__)

#: Line of the CSV file that holds data row 0 (line 1 is the header).
FIRST_DATA_LINE = 2
_MAX_LINES_SHOWN = 10

#: Codes of validation problems (message keys ``problem.<code>`` in the catalog), each with
#: the pattern of its English reason (logs and CLI keep the English); named groups are the
#: reason's parameters. The first match wins; a reason matching none is ``other`` (``text``).
PROBLEM_CODES: dict[str, str] = {
    "empty_file": r"the file is empty$",
    "not_utf8": r"the file is not UTF-8 \(byte (?P<byte>\d+) cannot be decoded\)",
    "unreadable_csv": r"not a readable CSV file: (?P<detail>.*)",
    "unreadable_excel": r"not a readable Excel workbook: (?P<detail>.*)",
    "no_sheet": r"the workbook has no sheet '(?P<sheet>.*)'; it has (?P<sheets>.*)",
    "no_rows": r"the file has a header but no data rows",
    "missing_column_hint": r"required column is missing; the file has '(?P<guess>.*)': misspelled\?",
    "missing_column": r"required column is missing",
    "not_whole_number": r"blank or not a valid whole number",
    "not_number": r"blank or not a valid number",
    "not_valid": r"blank or not a valid value",
    "duplicate": r"duplicate values \(must be unique\)",
    "blank": r"blank cells \(a value is required\)",
    "wrong_type": r"wrong type \(expected (?P<expected>.*)\)",
    "not_allowed": r"value not in \[(?P<allowed>.*)\]",
    "below": r"value below (?P<limit>\S+)",
    "above": r"value above (?P<limit>\S+)",
    "churn_disagree": r"columns churn_rate and Churn disagree",
    "blank_total_charges": r"TotalCharges is blank but tenure > 0",
    "too_large": r"the file is (?P<size>[\d,.]+) MB; at most (?P<limit>[\d,.]+) MB",
    "too_many_rows": r"the file has (?P<rows>[\d,]+) data rows; at most (?P<limit>[\d,]+)",
}


def problem_code(reason: str) -> tuple[str, dict[str, str]]:
    """The code and parameters of a validation problem's English reason.

    Parameters
    ----------
    reason : str
        A ``reason`` of :attr:`DataValidationError.problems`.

    Returns
    -------
    (str, dict of str to str)
        A key of :data:`PROBLEM_CODES` and the values its reason names (``{"limit": "120"}``);
        ``("other", {"text": reason})`` when no pattern matches.
    """
    for code, pattern in PROBLEM_CODES.items():
        if m := re.match(pattern, reason):
            return code, {k: v for k, v in m.groupdict().items() if v is not None}
    return "other", {"text": reason}


class DataValidationError(ValueError):
    """A customer file broke the declared schema.

    Attributes
    ----------
    source : str
        Name of the file (or "<upload>").
    problems : pandas.DataFrame
        One row per problem, columns ``column`` (str), ``reason`` (str), ``lines``
        (list of int, CSV line numbers with line 1 the header; empty for file-level
        problems) and ``examples`` (list of str, offending values); and, for the UI to
        translate, ``code`` (str, a key of :data:`PROBLEM_CODES`) and ``params`` (dict of
        the values the reason names), both from :func:`problem_code` of the reason.
    """

    def __init__(self, source: str, problems: pd.DataFrame):
        self.source = source
        self.problems = problems.reset_index(drop=True)
        if "code" not in self.problems:
            parsed = [problem_code(str(r)) for r in self.problems.get("reason", pd.Series(dtype=str))]
            self.problems["code"] = [c for c, _ in parsed]
            self.problems["params"] = [p for _, p in parsed]
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s); nothing was loaded."]
        for p in self.problems.itertuples():
            where = ""
            if p.lines:
                shown = ", ".join(map(str, p.lines[:_MAX_LINES_SHOWN]))
                more = f" and {len(p.lines) - _MAX_LINES_SHOWN} more" if len(p.lines) > _MAX_LINES_SHOWN else ""
                where = f" at CSV line(s) {shown}{more}"
            examples = f" (values: {', '.join(map(repr, p.examples[:5]))})" if p.examples else ""
            lines.append(f"  - column {p.column!r}: {p.reason}{where}{examples}")
        return "\n".join(lines)


def _problem(column: str, reason: str, lines=(), examples=()) -> dict:
    return {"column": column, "reason": reason, "lines": list(lines), "examples": list(examples)}


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes (used to rebuild derived data)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def decode_csv(data: bytes, source: str = "<upload>") -> str:
    """Decode CSV bytes as UTF-8 (a byte-order mark is accepted).

    Raises
    ------
    DataValidationError
        If the file is empty or not UTF-8 (naming the line of the first bad byte).
    """
    if not data.strip():
        raise DataValidationError(source, pd.DataFrame([_problem("<file>", "the file is empty")]))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reason = (
            f"the file is not UTF-8 (byte {exc.start} cannot be decoded); save it as UTF-8 CSV (Excel: 'CSV UTF-8')"
        )
        raise DataValidationError(source, pd.DataFrame([_problem("<file>", reason, [line])])) from exc


def clean_text_cells(df: pd.DataFrame) -> pd.DataFrame:
    """Strip every text cell and turn blank cells into missing values."""
    return df.apply(lambda s: s.str.strip()).replace("", np.nan)


def read_raw_text(data: bytes, source: str = "<upload>") -> pd.DataFrame:
    """Read a customer file into a DataFrame of stripped strings (blank cells become ``NA``).

    The file may be CSV in UTF-8 (± BOM), UTF-16 or CP949 / EUC-KR, separated by commas,
    semicolons or tabs, or an Excel workbook (first sheet): see
    :func:`churn_core.data.reading.read_table`. Headers that match a declared column ignoring
    case, spaces and underscores, or through its aliases (Korean names included, see
    :data:`churn_core.data.schema.COLUMN_ALIASES`), get the declared raw name.

    Parameters
    ----------
    data : bytes
        The file's content.
    source : str
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame of shape (n_rows, n_columns)
        Every cell a ``str`` or ``NA``; index 0 is CSV line 2.

    Raises
    ------
    DataValidationError
        If the file is empty, has no data rows, is in no supported encoding or is not
        parseable CSV or Excel.
    """
    from churn_core.data.reading import canonical_columns, read_table

    return canonical_columns(read_table(data, source).frame)[0]


def _check_columns(df: pd.DataFrame, source: str, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in df.columns]
    if not missing:
        return
    unexpected = [c for c in df.columns if c not in COLUMN_BY_RAW]
    problems = []
    for col in missing:
        guess = difflib.get_close_matches(col, unexpected, n=1, cutoff=0.6)
        hint = f"; the file has {guess[0]!r}: misspelled?" if guess else ""
        problems.append(_problem(col, f"required column is missing{hint}"))
    raise DataValidationError(source, pd.DataFrame(problems))


def _failure_problems(failure_cases: pd.DataFrame) -> list[dict]:
    fc = failure_cases.copy()
    check = fc["check"].astype(str)
    coerce_failed = check.str.startswith("coerce_dtype")
    # Row-level (cross-column) checks are reported once per check, not once per column.
    row_level = fc["schema_context"].astype(str).eq("DataFrameSchema") & fc["index"].notna()
    fc.loc[row_level, "column"] = "<row>"
    fc.loc[row_level, "failure_case"] = None
    fc["column"] = fc["column"].fillna("<row>")
    # A column that could not be coerced also fails its dtype and range checks, and the
    # cross-column checks that use it raise: report the coercion once, not the follow-ons.
    if coerce_failed.any():
        uncoerced = set(fc.loc[coerce_failed, "column"])
        follow_on = fc["column"].isin(uncoerced) & ~coerce_failed
        crashed = fc["index"].isna() & fc["failure_case"].astype(str).str.contains("Error\\(")
        fc = fc[~(follow_on | crashed)]
    problems = []
    for (column, chk), grp in fc.groupby(["column", "check"], sort=False, dropna=False):
        idx = pd.to_numeric(grp["index"], errors="coerce").dropna().astype(int)
        lines = sorted({int(i) + FIRST_DATA_LINE for i in idx})
        values = grp["failure_case"].dropna().drop_duplicates().head(5)
        examples = ["<blank>" if str(v) == "nan" else str(v) for v in values]
        chk = str(chk)
        if chk.startswith("coerce_dtype"):
            spec = COLUMN_BY_RAW.get(column)
            kind = {"int": "whole number", "float": "number"}.get(spec.kind if spec else "", "value")
            reason = f"blank or not a valid {kind}"
        elif chk == "field_uniqueness":
            reason = "duplicate values (must be unique)"
        elif chk == "not_nullable":
            reason = "blank cells (a value is required)"
            examples = []
        elif chk.startswith("dtype("):
            reason = f"wrong type (expected {chk[6:-1]})"
        else:
            reason = chk
        problems.append(_problem(str(column), reason, lines, examples))
    return problems


# -- obvious variants of category values (issue #13) ---------------------------------------------
def _value_key(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def normalise_values(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replace obvious variants of declared category values by the declared value, and count them.

    A cell of a category column (:data:`churn_core.data.schema.COLUMNS`, raw names) that is not an
    allowed value but equals one of them ignoring case and runs of spaces (``yes``, ``YES`` →
    ``Yes``; ``month-to-month`` → ``Month-to-month``; ``fiber  optic`` → ``Fiber optic``) is
    replaced. Anything else (``Two-year``, ``Y``) is left for validation to refuse.

    Parameters
    ----------
    df : pandas.DataFrame of shape (n_rows, n_columns)
        Text cells, raw column names; other columns are left alone.

    Returns
    -------
    table : pandas.DataFrame of shape (n_rows, n_columns)
        ``df`` itself when nothing changed, else a copy with the variants replaced.
    notes : pandas.DataFrame
        One row per changed column: ``column`` (str), ``count`` (int, cells changed),
        ``variants`` (list of str, the distinct values replaced, at most 5) and ``values``
        (list of str, what they became).
    """
    out, notes = df, []
    for column in df.columns:
        spec = COLUMN_BY_RAW.get(column)
        if spec is None or spec.allowed is None or column not in df:
            continue
        cells = df[column]
        odd = [v for v in cells.dropna().unique() if isinstance(v, str) and v not in spec.allowed]
        keys = {_value_key(a): a for a in spec.allowed}
        fix = {v: keys[_value_key(v)] for v in odd if _value_key(v) in keys}
        if not fix:
            continue
        if out is df:
            out = df.copy()
        hit = cells.isin(list(fix))
        out[column] = cells.mask(hit, cells.map(fix))
        notes.append(
            {
                "column": column,
                "count": int(hit.sum()),
                "variants": sorted(fix)[:5],
                "values": sorted(set(fix.values())),
            }
        )
    return out, pd.DataFrame(notes, columns=["column", "count", "variants", "values"])


def validate_with(schema: pa.DataFrameSchema, df: pd.DataFrame, source: str, required: tuple[str, ...]) -> pd.DataFrame:
    """Check that ``required`` columns exist, then validate ``df`` lazily against ``schema``.

    Returns
    -------
    pandas.DataFrame
        The validated (and coerced) table.

    Raises
    ------
    DataValidationError
        Listing every missing column (with a "misspelled?" hint) or every failed check
        with its CSV lines; nothing is dropped. Obvious variants of category values are
        accepted (:func:`normalise_values`, logged), anything else is a problem.
    """
    _check_columns(df, source, required)
    df, notes = normalise_values(df)  # yes/YES/ Yes  → Yes (counted; see normalise_values)
    for note in notes.itertuples():
        _log.info("%s: %d %s cell(s) normalised: %s → %s", source, note.count, note.column, note.variants, note.values)
    try:
        return schema.validate(df, lazy=True)
    except pa_errors.SchemaErrors as exc:
        raise DataValidationError(source, pd.DataFrame(_failure_problems(exc.failure_cases))) from exc


def validate_raw(df: pd.DataFrame, source: str = "<upload>") -> pd.DataFrame:
    """Validate a raw customer table (raw column names, text cells) against the schema.

    Parameters
    ----------
    df : pandas.DataFrame of shape (n_customers, n_columns)
        Output of :func:`read_raw_text`. Extra columns are kept but not checked.
    source : str
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_columns)
        The table with numeric columns coerced to int64/float64.

    Raises
    ------
    DataValidationError
        Listing every missing column, wrong type, value outside the allowed set or range,
        blank required cell, duplicate ``customerID`` and cross-column inconsistency, with
        CSV line numbers.
    """
    return validate_with(RAW_SCHEMA, df, source, RAW_COLUMNS)


def add_derived_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Add the documented derived columns to a validated table with warehouse names.

    Parameters
    ----------
    df : pandas.DataFrame of shape (n_customers, n_columns)
        Columns named as in :data:`churn_core.data.schema.RENAME` values.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_columns + 5)
        A copy with ``is_senior`` (bool, ``age >= 65``), ``age_group`` (one of
        :data:`AGE_GROUPS`), ``tenure_band`` (one of :data:`TENURE_BANDS`, months),
        ``n_services`` (int, 0-11, see :data:`SERVICE_COLUMNS`) and
        ``total_charges_was_blank`` (bool). Blank ``total_charges`` (tenure 0: not billed
        yet) becomes 0.0 USD.
    """
    out = df.copy()
    out["total_charges_was_blank"] = out["total_charges"].isna()
    out["total_charges"] = out["total_charges"].fillna(0.0).astype("float64")
    out["is_senior"] = out["age"] >= SENIOR_AGE
    out["age_group"] = pd.cut(out["age"], _AGE_EDGES, labels=AGE_GROUPS, right=False).astype(str)
    out["tenure_band"] = pd.cut(out["tenure"], _TENURE_EDGES, labels=TENURE_BANDS).astype(str)
    services = [(out[c] != "No") if c == "internet_service" else (out[c] == "Yes") for c in SERVICE_COLUMNS]
    out["n_services"] = np.sum(services, axis=0).astype("int64")
    return out


def load_customers_bytes(data: bytes, source: str = "<upload>") -> pd.DataFrame:
    """Read, validate and enrich customer CSV bytes in the extended IBM schema.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 57)
        Warehouse column names (see ``data/README.md``), derived columns added.

    Raises
    ------
    DataValidationError
        If anything in the file breaks the schema; no row is dropped.
    """
    raw = validate_raw(read_raw_text(data, source), source)
    renamed = raw[list(RAW_COLUMNS)].rename(columns=RENAME)
    return add_derived_columns(renamed)


def load_customers(path: str | Path) -> pd.DataFrame:
    """Read, validate and enrich the customer CSV file at ``path``.

    See :func:`load_customers_bytes`; errors name the file.
    """
    path = Path(path)
    return load_customers_bytes(path.read_bytes(), source=path.name)


def add_classic_derived_columns(df: pd.DataFrame) -> pd.DataFrame:
    """The derived columns a classic-schema table allows (``SCHEMAS["classic"].derived``).

    Parameters
    ----------
    df : pandas.DataFrame of shape (n_customers, 21)
        A validated classic table with warehouse names.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 26)
        A copy with ``churn_flag`` (0/1 from ``churn``), ``total_charges_was_blank``, ``is_senior``
        (``senior_citizen == 1``), ``tenure_band`` and ``n_services`` (0-9: the classic file has no
        streaming music or unlimited data). ``age_group`` cannot be derived (it needs ``Age``).
    """
    out = df.copy()
    out["churn_flag"] = (out["churn"] == "Yes").astype("int64")
    out["total_charges_was_blank"] = out["total_charges"].isna()
    out["total_charges"] = out["total_charges"].fillna(0.0).astype("float64")
    out["is_senior"] = out["senior_citizen"] == 1
    out["tenure_band"] = pd.cut(out["tenure"], _TENURE_EDGES, labels=TENURE_BANDS).astype(str)
    present = [c for c in SERVICE_COLUMNS if c in out.columns]
    services = [(out[c] != "No") if c == "internet_service" else (out[c] == "Yes") for c in present]
    out["n_services"] = np.sum(services, axis=0).astype("int64")
    return out


def load_any_customers_bytes(data: bytes, source: str = "<upload>") -> pd.DataFrame:
    """Read, validate and enrich customer CSV bytes in either schema of :data:`churn_core.data.schema.SCHEMAS`.

    The schema is detected from the header (:func:`churn_core.data.schema.detect_schema`): a file with
    every extended column is loaded as :func:`load_customers_bytes` does; a classic Kaggle file
    (21 columns, ``Churn`` required here) keeps only its classic columns plus
    :func:`add_classic_derived_columns`. ``df.attrs["schema"]`` says which.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 57) or (n_customers, 26)
        Warehouse column names, derived columns added.

    Raises
    ------
    DataValidationError
        If anything in the file breaks the detected schema (missing columns are named for it).
    """
    raw = read_raw_text(data, source)
    schema = detect_schema(raw.columns)
    if schema == "extended":
        out = load_customers_bytes(data, source)
    else:
        columns = SCHEMAS["classic"].raw_columns
        valid = validate_with(RAW_SCHEMAS["classic"], raw, source, columns)
        out = add_classic_derived_columns(valid[list(columns)].rename(columns=RENAME))
    out.attrs["schema"] = schema
    return out


def load_any_customers(path: str | Path) -> pd.DataFrame:
    """:func:`load_any_customers_bytes` of the file at ``path`` (errors name the file)."""
    path = Path(path)
    return load_any_customers_bytes(path.read_bytes(), source=path.name)
