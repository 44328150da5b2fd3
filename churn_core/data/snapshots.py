"""Dated customer snapshots: one validated customer extract per month, kept side by side.

A telecom's retention team gets a new customer extract every month. Each extract is a
**snapshot** dated by its ``as of`` day (``churn-studio ingest FILE --as-of YYYY-MM-DD``):

* Rows of snapshot ``D`` live in table ``customers_YYYYMMDD`` (validated customers, warehouse
  column names, with the enrich step's ``segment``), one row per snapshot in the declared table
  ``snapshots`` (file name, SHA-256, schema, row count, synthetic or not, drift).
* ``customers`` stays a copy of the **latest** snapshot, so every page and command keeps
  working; :meth:`churn_core.data.warehouse.Warehouse.at` gives a view of the warehouse in
  which ``{customers}`` is an earlier snapshot (DuckDB and BigQuery alike).
* The configured file (``Settings.raw_customers_csv``, the shipped IBM sample) is the first
  snapshot, dated ``Settings.base_snapshot_date`` (default 2019-09-30, nominal: the IBM sample
  carries no date; the end of its quarter). It is registered whenever the warehouse is built
  from that file (:func:`register_base_snapshot`).
* Re-ingesting the same bytes for the same date changes nothing (status ``"unchanged"``); a
  different file for a date that exists is refused with :class:`SnapshotExistsError` saying
  how many customers it would add, remove and change, unless ``replace=True``. A file that
  fails validation raises :class:`churn_core.data.loading.DataValidationError` (the same
  errors as every customer file) and nothing is written.

Label rule (``OUTCOME_RULE``, stored in ``outcomes.rule``)
---------------------------------------------------------
When a snapshot ``L`` is ingested, outcomes are recorded for the snapshot ``E`` just before it
(and, when a snapshot is put between two, for it against the next one). A customer of ``E``
who was **active** at ``E`` (``churn != "Yes"``) has ``churned = True`` if, at ``L``, they are
**absent** (no row with the same lineage id: the ID with any ``SYN-`` prefix removed) **or
present with** ``churn == "Yes"``; otherwise ``churned = False``. Customers already churned at
``E`` get no outcome (they were not at risk). A file without a ``Churn`` column counts every
customer as active at ``E`` and only absence as churn at ``L``. Outcomes are keyed by
(``snapshot_date`` = ``E``, ``customer_id`` as in ``E``) with ``observed_date`` = ``L``; they
are recomputed when either snapshot is replaced, and they are what realised model metrics and
retraining use as labels.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from churn_core.data.loading import file_sha256, load_any_customers
from churn_core.data.schema import detect_schema
from churn_core.data.tables import OUTCOMES, SNAPSHOTS
from churn_core.data.warehouse import CUSTOMERS_TABLE, SOURCE_INGEST, Warehouse, _as_date

ProgressFn = Callable[[float, str], None]

#: The label rule in one line (stored in ``outcomes.rule``; the module docstring explains it).
OUTCOME_RULE = (
    "active at E (churn != 'Yes'); churned = absent at the next snapshot L (by lineage id, SYN- removed) "
    "or churn = 'Yes' at L; customers churned at E get no outcome"
)
#: Prefix of synthetic customer IDs (:mod:`churn_core.data.synthetic`).
SYNTHETIC_PREFIX = "SYN-"
_SYN = re.compile(rf"^(?:{SYNTHETIC_PREFIX})+")
#: Columns that do not count as a change between two versions of a customer (the k-means label
#: is refitted on every snapshot; the flag is derived).
_NOT_COMPARED = ("customer_id", "segment")


class SnapshotExistsError(ValueError):
    """A different file is already the snapshot of that date (pass ``replace=True`` to replace it).

    Attributes
    ----------
    snapshot_date : datetime.date
    changes : dict of str to int
        ``added``, ``removed``, ``changed`` customers the new file would make.
    """

    def __init__(self, message: str, snapshot_date: dt.date, changes: dict[str, int]):
        super().__init__(message)
        self.snapshot_date = snapshot_date
        self.changes = changes


@dataclass(frozen=True)
class SnapshotResult:
    """What :func:`ingest_snapshot` did.

    Attributes
    ----------
    status : {"added", "unchanged", "replaced"}
    snapshot_date : datetime.date
    table_name : str
        The snapshot's table (``customers_YYYYMMDD``).
    n_customers : int
        Customers in the snapshot.
    n_outcomes : int
        Outcomes recorded for the previous snapshot (0 if none or unchanged).
    changes : str
        What changed, in English: against the replaced file, or against the previous snapshot.
    schema : {"extended", "classic"}
    previous_date : datetime.date or None
        The snapshot before it (whose customers got outcomes).
    is_latest : bool
        The snapshot is now ``customers``.
    """

    status: str
    snapshot_date: dt.date
    table_name: str
    n_customers: int
    n_outcomes: int
    changes: str
    schema: str
    previous_date: dt.date | None = None
    is_latest: bool = True


def _quiet(fraction: float, message: str) -> None:
    pass


def lineage_id(customer_id: str) -> str:
    """The customer's ID without the synthetic ``SYN-`` prefix (the same customer across snapshots).

    >>> lineage_id("SYN-7590-VHVEG")
    '7590-VHVEG'
    """
    return _SYN.sub("", str(customer_id))


def snapshot_table_name(snapshot_date: dt.date | str) -> str:
    """Table of the snapshot of ``snapshot_date``: ``customers_YYYYMMDD``."""
    return f"{CUSTOMERS_TABLE}_{_as_date(snapshot_date):%Y%m%d}"


def list_snapshots(wh: Warehouse) -> pd.DataFrame:
    """Every registered snapshot, oldest first.

    Returns
    -------
    pandas.DataFrame of shape (n_snapshots, 9)
        The columns of the ``snapshots`` table; ``snapshot_date`` as ``datetime.date``. Empty
        (with those columns) when none is registered.
    """
    if not wh.table_exists(SNAPSHOTS.name):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SNAPSHOTS.names})
    df = wh.query("SELECT * FROM {snapshots} ORDER BY snapshot_date")
    df["snapshot_date"] = [_as_date(d) for d in df["snapshot_date"]]
    return df[SNAPSHOTS.names].reset_index(drop=True)


def snapshot_dates(wh: Warehouse) -> list[dt.date]:
    """Dates of the registered snapshots, oldest first (empty if none)."""
    return list(list_snapshots(wh)["snapshot_date"])


def latest_snapshot_date(wh: Warehouse) -> dt.date | None:
    """Date of the latest snapshot (the one ``customers`` holds), or None if none is registered."""
    dates = snapshot_dates(wh)
    return dates[-1] if dates else None


def _row(wh: Warehouse, snapshot_date: dt.date) -> pd.Series | None:
    df = list_snapshots(wh)
    hit = df[df["snapshot_date"] == snapshot_date]
    return None if hit.empty else hit.iloc[0]


def snapshot_table(wh: Warehouse, snapshot_date: dt.date | str) -> str:
    """Unqualified table name of a registered snapshot.

    Raises
    ------
    KeyError
        If no snapshot has that date (the message lists the dates there are).
    """
    day = _as_date(snapshot_date)
    row = _row(wh, day)
    if row is None:
        known = ", ".join(d.isoformat() for d in snapshot_dates(wh)) or "none"
        raise KeyError(f"no customer snapshot dated {day.isoformat()} (snapshots: {known})")
    return str(row["table_name"])


def is_synthetic_snapshot(wh: Warehouse, snapshot_date: dt.date | str | None) -> bool:
    """True if the snapshot of that date (None: the latest) was generated (synthetic customers)."""
    df = list_snapshots(wh)
    if df.empty:
        return False
    row = df.iloc[-1] if snapshot_date is None else _row(wh, _as_date(snapshot_date))
    return bool(row is not None and row["is_synthetic"])


def snapshot_frame(wh: Warehouse, snapshot_date: dt.date | str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of one snapshot, ordered by ``customer_id``.

    Parameters
    ----------
    snapshot_date : datetime.date or str
        A registered snapshot date.
    columns : sequence of str, optional
        Warehouse columns to read (default: all).

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_columns)

    Raises
    ------
    KeyError
        If no snapshot has that date.
    """
    table = wh.table(snapshot_table(wh, snapshot_date))
    cols = ", ".join(f"`{c}`" for c in columns) if columns else "*"
    return wh.query(f"SELECT {cols} FROM {table} ORDER BY customer_id")


def _snapshot_row(
    wh: Warehouse, day: dt.date, raw_file: str, sha: str, schema: str, n: int, synthetic: bool, drift: str
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "snapshot_date": day,
                "table_name": snapshot_table_name(day),
                "raw_file": raw_file,
                "raw_sha256": sha,
                "customer_schema": schema,
                "n_customers": n,
                "is_synthetic": synthetic,
                "drift": drift,
                "ingested_at": dt.datetime.now(dt.UTC),
            }
        ]
    )


def register_base_snapshot(wh: Warehouse, customers: pd.DataFrame | None = None) -> None:
    """Register the configured file as the snapshot of ``wh.base_snapshot_date`` (replacing it).

    Called by the warehouse build from the configured file (``customers`` is then copied), and by
    :func:`ingest_snapshot` when the table ``customers`` came from another file (the configured
    file's validated rows are passed). When later snapshots exist, ``customers`` is pointed back
    at the latest one and the base snapshot's outcomes are recomputed.

    Parameters
    ----------
    customers : pandas.DataFrame, optional
        The configured file's validated, enriched customers; default: copy table ``customers``.
    """
    day = wh.base_snapshot_date
    table = snapshot_table_name(day)
    if customers is None:
        wh.execute(f"CREATE OR REPLACE TABLE {wh.table(table)} AS SELECT * FROM {{customers}}")
        meta = wh.meta()
        raw_file, sha = meta.get("raw_file", Path(wh.raw_csv).name), meta.get("raw_sha256", "")
        schema, n = meta.get("customer_schema", "extended"), int(meta.get("n_customers", 0))
    else:
        wh.replace_table(table, customers)
        raw_file, sha = Path(wh.raw_csv).name, wh.configured_sha256()
        schema = str(customers.attrs.get("schema", detect_schema(customers.columns)))
        n = len(customers)
    wh.merge_rows(SNAPSHOTS.name, _snapshot_row(wh, day, raw_file, sha, schema, n, False, ""), update=True)
    later = [d for d in snapshot_dates(wh) if d > day]
    if later:
        record_outcomes(wh, day, later[0])
        if customers is None:  # the build rewrote customers: the latest snapshot is customers again
            _publish_existing(wh, later[-1])


def _publish_existing(wh: Warehouse, day: dt.date) -> None:
    """Make ``customers`` (and the build metadata) the registered snapshot of ``day`` again."""
    from churn_core.data.ingest import ingest_meta

    row = _row(wh, day)
    frame = wh.query(f"SELECT * FROM {wh.table(str(row['table_name']))}")
    frame.attrs["schema"] = str(row["customer_schema"])
    wh.write_customers(frame, str(row["raw_file"]), str(row["raw_sha256"]),
                       {**ingest_meta(wh), "snapshot_date": day.isoformat()})  # fmt: skip


def ensure_base_snapshot(wh: Warehouse) -> bool:
    """Register the base snapshot if no snapshot is registered and ``customers`` is the configured file.

    A warehouse built before snapshots existed gets its base snapshot on the next
    :meth:`~churn_core.data.warehouse.Warehouse.ensure_built`. A pinned (benchmark) warehouse or
    one whose ``customers`` was ingested without ``--as-of`` is left alone.

    Returns
    -------
    bool
        True if the base snapshot was registered now.
    """
    if wh.table_exists(SNAPSHOTS.name) and not list_snapshots(wh).empty:
        return False
    meta = wh.meta()
    if not meta or meta.get("pinned") == "true" or meta.get("source") == SOURCE_INGEST:
        return False
    if not wh.table_exists(CUSTOMERS_TABLE):
        return False
    register_base_snapshot(wh)
    return True


def _compared(df: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One hash per customer (by lineage id) of the compared columns, values as text."""
    values = df[list(columns)].astype(object)
    values = values.where(values.notna(), None).astype(str)
    hashes = pd.util.hash_pandas_object(values, index=False)
    return pd.Series(hashes.to_numpy(), index=[lineage_id(c) for c in df["customer_id"]])


def compare_customers(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, int]:
    """How many customers ``new`` adds, removes and changes relative to ``old`` (matched by lineage id).

    Parameters
    ----------
    old, new : pandas.DataFrame
        Customers with ``customer_id`` and warehouse columns; only the columns both have are
        compared (``segment`` is not: it is refitted on every snapshot).

    Returns
    -------
    dict of str to int
        ``added``, ``removed``, ``changed``, ``unchanged``.
    """
    cols = [c for c in old.columns if c in new.columns and c not in _NOT_COMPARED]
    a, b = _compared(old, cols), _compared(new, cols)
    common = a.index.intersection(b.index)
    changed = int((a.loc[common] != b.loc[common]).sum())
    return {
        "added": len(b.index.difference(a.index)),
        "removed": len(a.index.difference(b.index)),
        "changed": changed,
        "unchanged": int(len(common) - changed),
    }


def _changes_text(counts: dict[str, int], against: str) -> str:
    return (
        f"{counts['added']:,} customers added, {counts['removed']:,} removed, {counts['changed']:,} changed, "
        f"{counts['unchanged']:,} unchanged against {against}"
    )


def record_outcomes(wh: Warehouse, earlier: dt.date | str, later: dt.date | str) -> int:
    """Record the outcome of every active customer of snapshot ``earlier`` as seen at ``later``.

    Applies :data:`OUTCOME_RULE` (see the module docstring); earlier outcomes of ``earlier`` are
    replaced.

    Parameters
    ----------
    earlier, later : datetime.date or str
        Registered snapshot dates, ``earlier < later``.

    Returns
    -------
    int
        Outcomes recorded (active customers of ``earlier``).

    Raises
    ------
    KeyError
        If either date is not a registered snapshot.
    ValueError
        If ``earlier`` is not before ``later``.
    """
    e, lat = _as_date(earlier), _as_date(later)
    if e >= lat:
        raise ValueError(f"outcomes need an earlier snapshot before the later one, not {e} >= {lat}")
    before, after = _status_frame(wh, e), _status_frame(wh, lat)
    active = before[before["churn"] != "Yes"]
    churned_later = set(after.loc[after["churn"] == "Yes", "lineage"])
    present_later = set(after["lineage"])
    lineage = active["lineage"]
    churned = ~lineage.isin(present_later) | lineage.isin(churned_later)
    rows = pd.DataFrame(
        {
            "snapshot_date": e,
            "customer_id": active["customer_id"].to_numpy(),
            "churned": churned.to_numpy(dtype=bool),
            "observed_date": lat,
            "rule": OUTCOME_RULE,
            "recorded_at": dt.datetime.now(dt.UTC),
        }
    )
    wh.ensure_tables()
    wh.execute("DELETE FROM {outcomes} WHERE snapshot_date = @d", {"d": e})
    if rows.empty:
        return 0
    wh.merge_rows(OUTCOMES.name, rows, update=True)
    return len(rows)


def _status_frame(wh: Warehouse, day: dt.date) -> pd.DataFrame:
    """``customer_id``, ``churn`` ("No" where the file has no churn column) and ``lineage`` of a snapshot."""
    table = snapshot_table(wh, day)
    has_churn = "churn" in wh.schema(table)
    cols = ["customer_id", "churn"] if has_churn else ["customer_id"]
    df = snapshot_frame(wh, day, cols)
    if not has_churn:
        df["churn"] = "No"
    df["lineage"] = [lineage_id(c) for c in df["customer_id"]]
    return df


def _outcomes_recorded(wh: Warehouse, earlier: dt.date, later: dt.date) -> bool:
    if not wh.table_exists(OUTCOMES.name):
        return False
    n = wh.query(
        "SELECT COUNT(*) AS n FROM {outcomes} WHERE snapshot_date = @e AND observed_date = @l",
        {"e": earlier, "l": later},
    )["n"].iloc[0]
    return int(n) > 0


def ingest_snapshot(
    wh: Warehouse,
    path: str | Path,
    as_of: dt.date | str,
    *,
    replace: bool = False,
    progress: ProgressFn | None = None,
    is_synthetic: bool = False,
    drift: str = "",
) -> SnapshotResult:
    """Validate a customer file and add it to the warehouse as the snapshot of ``as_of``.

    Parameters
    ----------
    wh : Warehouse
        The configured warehouse (:func:`churn_core.studio.open_studio_warehouse`: its enrich step
        adds ``segment``); built first if needed, which registers the base snapshot.
    path : str or Path
        A customer file (extended or classic schema, any accepted encoding/separator).
    as_of : datetime.date or str
        The snapshot's date (``YYYY-MM-DD``).
    replace : bool
        Replace a different file already registered for ``as_of``.
    progress : callable(fraction in [0, 1], message), optional
        Told of each step.
    is_synthetic, drift : bool, str
        Mark a generated snapshot (:mod:`churn_core.data.synthetic`) and the drift it carries.

    Returns
    -------
    SnapshotResult
        ``status`` ``"unchanged"`` when the same bytes are already that date's snapshot (nothing
        is written), ``"added"`` or ``"replaced"``.

    Raises
    ------
    churn_core.data.loading.DataValidationError
        If the file breaks its schema (every problem with column, lines and reason); nothing is written.
    SnapshotExistsError
        If another file is the snapshot of ``as_of`` and ``replace`` is False; nothing is written.
    """
    from churn_core.data.ingest import ingest_meta

    report = progress or _quiet
    day, path = _as_date(as_of), Path(path)
    sha = file_sha256(path)
    report(0.02, "opening the warehouse")
    wh.ensure_built()
    existing = _row(wh, day)
    dates = snapshot_dates(wh)
    previous = max((d for d in dates if d < day), default=None)
    following = min((d for d in dates if d > day), default=None)
    latest = dates[-1] if dates else None
    if existing is not None and existing["raw_sha256"] == sha:
        n_out = 0
        if previous is not None and not _outcomes_recorded(wh, previous, day):  # an interrupted ingest
            n_out = record_outcomes(wh, previous, day)
        return SnapshotResult("unchanged", day, str(existing["table_name"]), int(existing["n_customers"]), n_out,
                              f"the same file ({existing['raw_file']}) is already the snapshot of {day}",
                              str(existing["customer_schema"]), previous, latest == day)  # fmt: skip
    report(0.1, "validating file")
    customers = load_any_customers(path)  # DataValidationError: nothing written
    schema = str(customers.attrs.get("schema", detect_schema(customers.columns)))
    if existing is not None:
        counts = compare_customers(snapshot_frame(wh, day), customers)
        changes = _changes_text(counts, f"{existing['raw_file']} (the snapshot of {day})")
        if not replace:
            raise SnapshotExistsError(
                f"a different file ({existing['raw_file']}) is already the snapshot of {day}; {path.name} would "
                f"change it: {changes}. Use --replace to replace it.",
                day,
                counts,
            )
    elif previous is not None:
        changes = _changes_text(compare_customers(snapshot_frame(wh, previous), customers), f"snapshot {previous}")
    else:
        changes = f"first snapshot: {len(customers):,} customers"
    if not dates and wh.meta().get("source") == SOURCE_INGEST and day != wh.base_snapshot_date:
        report(0.2, "registering the configured file as the base snapshot")  # customers came from a plain ingest
        base = load_any_customers(wh.raw_csv)
        register_base_snapshot(wh, wh.enrich(base) if wh.enrich else base)
        dates = snapshot_dates(wh)
        previous = max((d for d in dates if d < day), default=None)
        following = min((d for d in dates if d > day), default=None)
        latest = dates[-1]
    if wh.enrich is not None:
        report(0.3, "deriving columns")
        customers = wh.enrich(customers)
        customers.attrs["schema"] = schema
    table = snapshot_table_name(day)
    report(0.6, f"writing {table}")
    wh.replace_table(table, customers)
    is_latest = latest is None or day >= latest
    if is_latest:
        report(0.7, "writing customers (the latest snapshot)")
        wh.write_customers(customers, path.name, sha, {**ingest_meta(wh), "snapshot_date": day.isoformat()})
    wh.merge_rows(
        SNAPSHOTS.name, _snapshot_row(wh, day, path.name, sha, schema, len(customers), is_synthetic, drift), update=True
    )
    report(0.8, "recording outcomes")
    n_out = record_outcomes(wh, previous, day) if previous is not None else 0
    if following is not None:
        record_outcomes(wh, day, following)
    if is_latest:
        wh.run_after_build(report)
    report(1.0, "done")
    status = "replaced" if existing is not None else "added"
    return SnapshotResult(status, day, table, len(customers), n_out, changes, schema, previous, is_latest)
