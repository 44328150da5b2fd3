"""One warehouse interface with two backends: embedded DuckDB (default) and BigQuery.

Queries are written once in BigQuery standard SQL, with named ``@parameters`` and table
placeholders in braces (``{customers}``, ``{scores}``, ``{outbox}`` …, see
:mod:`churn_core.data.tables`). BigQuery runs them as they are; the DuckDB backend translates
them with sqlglot. Every page and command reaches the data through :class:`Warehouse`:

* :meth:`Warehouse.query` / :meth:`Warehouse.query_arrow` — a parameterised query;
* :meth:`Warehouse.iter_batches` — a large result streamed in bounded chunks;
* :meth:`Warehouse.replace_table` / :meth:`Warehouse.append_rows` — load data;
* :meth:`Warehouse.merge_rows` — insert rows whose key is new (and optionally update the others);
* :meth:`Warehouse.execute` — DML (``INSERT``, ``UPDATE``, ``MERGE``);
* :meth:`Warehouse.schema` — the columns and BigQuery types of a table.

The ``customers`` table is (re)built from the raw CSV when the file's SHA-256 or
:data:`SCHEMA_VERSION` changes; the rebuild replaces that table only, in one transaction
(DuckDB) or through a staging table (BigQuery), so scores, contacts and the outreach ledger
survive it. :func:`open_warehouse` picks the backend from the settings.

Customer snapshots (:mod:`churn_core.data.snapshots`): a build from the configured file also
registers it as the base snapshot (table ``customers_YYYYMMDD``, row in ``snapshots``), and
:meth:`Warehouse.at` gives a :class:`SnapshotView` in which ``{customers}`` is an earlier
snapshot's table, sharing the connection; ``customers`` itself is always the latest snapshot.

Safe writes:

* A failed :meth:`~Warehouse.replace_table` never empties the table. DuckDB replaces it in
  one transaction; BigQuery loads the rows into a staging table first, then swaps it in with
  one atomic ``CREATE OR REPLACE TABLE … AS SELECT`` and drops the staging table.
* Declared keys (:attr:`churn_core.data.tables.TableSpec.key`) are a unique index on DuckDB;
  on BigQuery :meth:`~Warehouse.merge_rows` inserts with ``MERGE … WHEN NOT MATCHED``.
* DML that loses a race with another writer (BigQuery "Could not serialize access … due to
  concurrent update", DuckDB "Conflict on update") is retried with random exponential
  back-off (tenacity), at most :data:`CONFLICT_ATTEMPTS` times; then the error is raised.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import sqlglot
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from churn_core.config import Settings, get_settings
from churn_core.data.loading import file_sha256, load_any_customers
from churn_core.data.schema import detect_schema
from churn_core.data.tables import DUCKDB_TYPES, FROM_DUCKDB, TABLES, TableSpec, bigquery_type

#: Bump when the derived columns or table layout change, to force a rebuild.
SCHEMA_VERSION = "3"
CUSTOMERS_TABLE = "customers"
META_TABLE = "_meta"

#: Tries of a statement that loses a write-write race (see the module docstring), and the
#: back-off multiplier in seconds (random exponential, at most 8 s between tries).
#: Build metadata ``source`` of a ``customers`` table loaded by ``churn-studio ingest`` (see
#: :meth:`Warehouse.is_current`: kept until the configured raw file or the schema version changes).
SOURCE_INGEST = "ingest"
_log = logging.getLogger(__name__)
CONFLICT_ATTEMPTS = 6
CONFLICT_BACKOFF_S = 0.25
_BQ_CONFLICT = re.compile(
    r"could not serialize access|concurrent update|too many dml statements outstanding", re.IGNORECASE
)
ProgressFn = Callable[[float, str], None]
#: A step that adds derived columns to validated customers before they are written
#: (the studio adds k-means segments, see :func:`churn_core.studio.open_studio_warehouse`).
Enrich = Callable[[pd.DataFrame], pd.DataFrame]
#: A step run after ``customers`` is written (aggregate tables, precomputed analytics): ``hook(wh, progress)``.
AfterBuild = Callable[["Warehouse", "ProgressFn"], None]
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _quiet(fraction: float, message: str) -> None:
    pass


@lru_cache(maxsize=512)
def to_duckdb_sql(sql: str) -> str:
    """Translate a BigQuery-dialect query (``@name`` parameters) to DuckDB SQL (``$name``).

    Raises
    ------
    sqlglot.errors.ParseError
        If ``sql`` is not valid BigQuery SQL.
    """
    return sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]


class WarehouseBusyError(RuntimeError):
    """The DuckDB file is locked by another process (for example a running app)."""


class Warehouse(ABC):
    """What every page and command needs from a warehouse backend.

    Parameters
    ----------
    raw_csv : str or Path
        Raw customer CSV (extended IBM schema) the ``customers`` table is built from.
    enrich : callable(DataFrame) -> DataFrame, optional
        Adds derived columns to the validated customers before they are written; storage
        itself computes none (the studio passes the segmentation step).
    """

    backend: str = ""
    #: Steps run, in order, after every build (see :data:`AfterBuild`); the studio sets them
    #: (:func:`churn_core.studio.open_studio_warehouse`). Storage itself computes nothing.
    after_build: tuple[AfterBuild, ...] = ()
    #: Date of the first customer snapshot, the configured file (``Settings.base_snapshot_date``;
    #: see :mod:`churn_core.data.snapshots`).
    base_snapshot_date: dt.date = dt.date(2019, 9, 30)
    #: Tries and back-off of a statement that conflicts with a concurrent writer.
    conflict_attempts: int = CONFLICT_ATTEMPTS
    conflict_backoff_s: float = CONFLICT_BACKOFF_S

    def __init__(self, raw_csv: str | Path, enrich: Enrich | None = None):
        self.raw_csv = Path(raw_csv)
        self.enrich = enrich

    # -- backend specifics --------------------------------------------------------------
    @abstractmethod
    def table(self, name: str) -> str:
        """Qualified name of table ``name`` for use in SQL text."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data lives, for display (file path or ``project.dataset``)."""

    @abstractmethod
    def _query_arrow(self, sql: str, params: Mapping[str, Any]) -> pa.Table: ...

    def _query_df(self, sql: str, params: Mapping[str, Any]) -> pd.DataFrame:
        return self._query_arrow(sql, params).to_pandas()

    @abstractmethod
    def _batches(self, sql: str, params: Mapping[str, Any], batch_size: int) -> Iterator[pd.DataFrame]: ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int | None:
        """Run a DML or DDL statement (BigQuery dialect, ``{table}`` placeholders).

        A statement that loses a race with a concurrent writer is retried with back-off
        (at most :attr:`conflict_attempts` tries); a conditional ``UPDATE … WHERE status = …``
        therefore changes each row in exactly one of the racing processes.

        Returns
        -------
        int or None
            Rows changed by an ``INSERT``/``UPDATE``/``DELETE``/``MERGE`` (None for DDL).

        Raises
        ------
        duckdb.Error or google.api_core.exceptions.GoogleAPIError
            If the statement fails, or still conflicts after the last try.
        """
        rendered, values = self.render(sql), dict(params or {})
        return self._retrying(lambda: self._execute(rendered, values))

    def _retrying(self, call: Callable[[], Any], merge: bool = False) -> Any:
        retrying = Retrying(
            retry=retry_if_exception(lambda exc: self._is_conflict(exc, merge)),
            stop=stop_after_attempt(self.conflict_attempts),
            wait=wait_random_exponential(multiplier=self.conflict_backoff_s, max=8),
            reraise=True,
        )
        return retrying(call)

    @abstractmethod
    def _execute(self, sql: str, params: Mapping[str, Any]) -> int | None: ...

    @abstractmethod
    def _is_conflict(self, exc: BaseException, merge: bool) -> bool:
        """True if ``exc`` says the statement lost a race with another writer (worth retrying)."""

    @abstractmethod
    def _write(self, name: str, df: pd.DataFrame, types: dict[str, str], replace: bool) -> None: ...

    @abstractmethod
    def _merge(self, spec: TableSpec, df: pd.DataFrame, update: bool) -> int: ...

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """True if table ``name`` exists."""

    @abstractmethod
    def schema(self, name: str) -> dict[str, str]:
        """Columns of table ``name`` in order, with their BigQuery types.

        Raises
        ------
        KeyError
            If the table does not exist.
        """

    @abstractmethod
    def _create_empty(self, spec: TableSpec) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Release connections (a later call opens new ones)."""

    # -- shared behaviour --------------------------------------------------------------
    def render(self, sql: str) -> str:
        """Replace ``{table}`` placeholders by qualified table names.

        Raises
        ------
        KeyError
            If a placeholder names no declared table.
        """
        known = {CUSTOMERS_TABLE, META_TABLE, *TABLES}

        def sub(match: re.Match) -> str:
            name = match.group(1)
            if name not in known:
                raise KeyError(f"unknown table placeholder {{{name}}}")
            return self.table(name)

        return _PLACEHOLDER.sub(sub, sql)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run a BigQuery-dialect query and return its result.

        Parameters
        ----------
        sql : str
            Query text in BigQuery standard SQL with ``{table}`` placeholders and
            ``@name`` parameters.
        params : mapping of str to scalar or list, optional
            Values of the named parameters (lists for ``IN UNNEST(@name)``).

        Returns
        -------
        pandas.DataFrame
            The result set (nullable integers and booleans come back as numpy dtypes
            where the column has no NULL).

        Raises
        ------
        duckdb.Error or google.api_core.exceptions.GoogleAPIError
            If the query fails on the backend.
        """
        return _plain_dtypes(self._query_df(self.render(sql), dict(params or {})))

    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """:meth:`query` returning an Arrow table (no pandas conversion)."""
        return self._query_arrow(self.render(sql), dict(params or {}))

    def iter_batches(
        self, sql: str, params: Mapping[str, Any] | None = None, batch_size: int = 100_000
    ) -> Iterator[pd.DataFrame]:
        """Stream a large result in DataFrames of at most ``batch_size`` rows (bounded memory)."""
        for batch in self._batches(self.render(sql), dict(params or {}), batch_size):
            yield _plain_dtypes(batch)

    def replace_table(self, name: str, data: pd.DataFrame | str | Path) -> int:
        """Load a DataFrame (or a CSV/Parquet file) into table ``name``, replacing its rows.

        Declared tables (:data:`churn_core.data.tables.TABLES`) are conformed to their declared
        columns and types first; other tables take their types from the DataFrame.

        Returns
        -------
        int
            Rows written.

        Raises
        ------
        ValueError
            If a declared table gets missing or undeclared columns.
        """
        df, types = self._prepare(name, data)
        self._write(name, df, types, replace=True)
        return len(df)

    def merge_rows(self, name: str, data: pd.DataFrame, update: bool = False) -> int:
        """Insert the rows of ``data`` whose key is not in declared table ``name`` yet.

        The key is :attr:`churn_core.data.tables.TableSpec.key`. A ``MERGE`` on the key (and
        on DuckDB its unique index) makes this safe against concurrent writers: two callers
        merging the same rows add each key once. Rows repeated in ``data`` count once (the
        last wins).

        Parameters
        ----------
        name : str
            A declared table with a key.
        data : pandas.DataFrame
            Rows with the declared columns.
        update : bool
            Also overwrite the non-key columns of rows whose key exists (an upsert).

        Returns
        -------
        int
            Rows inserted (plus rows updated when ``update``).

        Raises
        ------
        ValueError
            If ``name`` is not a declared table with a key, or ``data`` lacks declared columns.
        """
        spec = TABLES.get(name)
        if spec is None or not spec.key:
            raise ValueError(f"merge_rows needs a declared table with a key, not {name!r}")
        df = spec.conform(data)
        df = df.drop_duplicates(list(spec.key), keep="last").reset_index(drop=True)
        if df.empty:
            return 0
        return self._retrying(lambda: self._merge(spec, df, update), merge=True)

    def append_rows(self, name: str, data: pd.DataFrame | str | Path) -> int:
        """Append rows to table ``name`` (created if missing); see :meth:`replace_table`."""
        df, types = self._prepare(name, data)
        if len(df):
            self._write(name, df, types, replace=False)
        return len(df)

    def _prepare(self, name: str, data: pd.DataFrame | str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
        if not isinstance(data, pd.DataFrame):
            path = Path(data)
            data = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        if name in TABLES:
            spec = TABLES[name]
            return spec.conform(data), dict(spec.columns)
        return data.reset_index(drop=True), {c: bigquery_type(t) for c, t in data.dtypes.items()}

    def ensure_tables(self) -> None:
        """Create every declared table that does not exist yet (empty), and enforce declared keys."""
        for spec in TABLES.values():
            if not self.table_exists(spec.name):
                self._create_empty(spec)
            elif spec.key:
                self._ensure_key(spec)

    def _ensure_key(self, spec: TableSpec) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Enforce the declared key of an existing table where the backend can (default: nothing)."""

    def meta(self) -> dict[str, str]:
        """Build metadata (raw file hash, build time, row count); empty if never built."""
        if not self.table_exists(META_TABLE):
            return {}
        return dict(self.query("SELECT key, value FROM {_meta}").itertuples(index=False))

    def is_current(self) -> bool:
        """True if ``customers`` was built from the current raw file and code, ingested, or is pinned.

        An ingested table (``churn-studio ingest FILE``, build metadata ``source = "ingest"``) is
        current while the schema version, the enrich step and the configured raw file's SHA-256
        (recorded at ingest time as ``configured_raw_sha256``) are unchanged: ingesting a file
        outranks the configured one until that file's content changes.

        A pinned warehouse (synthetic data loaded by :func:`churn_core.data.synthetic.load_synthetic`
        for load tests) is never rebuilt from the raw file.
        """
        meta = self.meta()
        if meta.get("pinned") == "true" and meta.get("schema_version") == SCHEMA_VERSION:
            return True
        same_code = meta.get("schema_version") == SCHEMA_VERSION and meta.get("enrich", "") == self.enrich_name
        if meta.get("source") == SOURCE_INGEST:
            return same_code and meta.get("configured_raw_sha256") == self.configured_sha256()
        return same_code and meta.get("raw_sha256") == file_sha256(self.raw_csv)

    def configured_sha256(self) -> str:
        """SHA-256 of the configured raw file (``raw_csv``), or ``""`` if it does not exist."""
        return file_sha256(self.raw_csv) if Path(self.raw_csv).is_file() else ""

    @property
    def enrich_name(self) -> str:
        """Name of the enrich step (``module:function``; empty without one), recorded in the build metadata.

        A warehouse built without the studio's segments is not current for a studio warehouse.
        """
        if self.enrich is None:
            return ""
        return f"{getattr(self.enrich, '__module__', '')}:{getattr(self.enrich, '__qualname__', repr(self.enrich))}"

    def ensure_built(self, progress: ProgressFn | None = None) -> bool:
        """Build ``customers`` if missing or stale, and create missing declared tables.

        Parameters
        ----------
        progress : callable(fraction, message), optional
            Called with a fraction in [0, 1] and an English step name while building.

        Returns
        -------
        bool
            True if a build ran, False if the warehouse was already current. A table ingested
            from another file is kept (see :meth:`is_current`) and rebuilt from the configured
            file only when that file or the schema version changed; a warning is logged then.

        Raises
        ------
        churn_core.data.loading.DataValidationError
            If the raw file breaks the schema (the old ``customers`` table, if any, is kept).
        """
        built = False
        current = self.is_current()
        if not current:
            meta = self.meta()
            if meta.get("source") == SOURCE_INGEST:
                _log.warning(
                    "customers were ingested from %s; the configured file %s or the schema version changed "
                    "since: rebuilding customers from %s",
                    meta.get("raw_file", "?"), Path(self.raw_csv).name, Path(self.raw_csv).name,
                )  # fmt: skip
            self.build(progress)
            built = True
        self.ensure_tables()
        if current:  # a warehouse built before snapshots existed gets its base snapshot now
            from churn_core.data.snapshots import ensure_base_snapshot

            ensure_base_snapshot(self)
        return built

    def build(
        self,
        progress: ProgressFn | None = None,
        customers: pd.DataFrame | None = None,
        source: str | Path | None = None,
        extra_meta: Mapping[str, str] | None = None,
    ) -> None:
        """Validate the raw CSV and replace the ``customers`` table and build metadata.

        Parameters
        ----------
        customers : pandas.DataFrame, optional
            Already validated customers (warehouse names, with ``segment``) to load instead
            of the raw file: synthetic data for benchmarks. Metadata then says so.
        source : str or Path, optional
            A customer file to build from instead of ``raw_csv`` (``churn-studio ingest``);
            its name and SHA-256 are recorded as ``raw_file`` and ``raw_sha256``.
        extra_meta : mapping of str to str, optional
            More build metadata (the ingest's ``source`` and ``configured_raw_sha256``).

        Raises
        ------
        churn_core.data.loading.DataValidationError
            If the file breaks its schema; nothing is written then.
        """
        report = progress or _quiet
        path = Path(source) if source is not None else Path(self.raw_csv)
        configured = source is None and customers is None  # the configured file: the base snapshot
        if customers is None:
            report(0.05, "validating raw file")
            customers = load_any_customers(path)  # extended or classic (churn_core.data.schema.SCHEMAS)
            if self.enrich is not None:
                report(0.3, "deriving columns")
                customers = self.enrich(customers)
            sha = file_sha256(path)
        else:
            sha = "synthetic"
        report(0.6, "writing customers table")
        if configured:
            extra_meta = {**dict(extra_meta or {}), "snapshot_date": self.base_snapshot_date.isoformat()}
        self.write_customers(customers, path.name, sha, extra_meta)
        if configured:
            from churn_core.data.snapshots import register_base_snapshot

            report(0.8, "registering the base snapshot")
            register_base_snapshot(self)
        self.run_after_build(report)
        report(1.0, "done")

    def write_customers(
        self, customers: pd.DataFrame, raw_file: str, sha: str, extra_meta: Mapping[str, str] | None = None
    ) -> None:
        """Replace ``customers`` and the build metadata (one transaction on DuckDB); no validation here.

        Parameters
        ----------
        customers : pandas.DataFrame of shape (n_customers, n_columns)
            Validated customers with warehouse names (and the enrich step's columns).
        raw_file, sha : str
            Name and SHA-256 of the file they came from (recorded as ``raw_file``, ``raw_sha256``).
        extra_meta : mapping of str to str, optional
            More build metadata (an ingest's ``source``, a snapshot's ``snapshot_date``).
        """
        meta = {
            **dict(extra_meta or {}),
            "raw_sha256": sha,
            "raw_file": raw_file,
            "schema_version": SCHEMA_VERSION,
            "customer_schema": str(customers.attrs.get("schema", detect_schema(customers.columns))),
            "enrich": self.enrich_name,
            "n_customers": str(len(customers)),
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        self._write_customers(customers, pd.DataFrame(list(meta.items()), columns=["key", "value"]))

    def run_after_build(self, progress: ProgressFn | None = None) -> None:
        """Run the :attr:`after_build` steps, in order (after a build or a snapshot that became ``customers``).

        A step that fails is logged as a warning naming it and the error, and the next step runs:
        ``customers`` is already written, and the pages compute what a failed step did not store
        (see :mod:`churn_core.analytics.precomputed`).
        """
        report = progress or _quiet
        for hook in self.after_build:
            try:
                hook(self, report)
            except Exception as exc:  # reported; nothing a failed step stored is used
                name = f"{getattr(hook, '__module__', '')}.{getattr(hook, '__qualname__', repr(hook))}"
                first = (str(exc).strip().splitlines() or [""])[0]
                what = f"{type(exc).__name__}: {first}"
                _log.warning("after-build step %s failed (%s); its results are computed on use", name, what)

    def at(self, snapshot_date: dt.date | None) -> Warehouse:
        """This warehouse as of a customer snapshot: ``{customers}`` renders to that snapshot's table.

        Parameters
        ----------
        snapshot_date : datetime.date or None
            A registered snapshot date (:func:`churn_core.data.snapshots.snapshot_dates`). None or
            the latest date give this warehouse itself (``customers`` is the latest snapshot).

        Returns
        -------
        Warehouse
            A view sharing this warehouse's connection (DuckDB) or client (BigQuery); every
            other table (scores, outcomes, …) is the same. Closing the view closes nothing.

        Raises
        ------
        KeyError
            If no snapshot has that date.
        """
        if snapshot_date is None:
            return self
        from churn_core.data.snapshots import latest_snapshot_date, snapshot_table

        day = _as_date(snapshot_date)
        latest = latest_snapshot_date(self)
        if latest is not None and day == latest:
            return self
        table = snapshot_table(self, day)  # KeyError if not registered
        return SnapshotView(self, day, table)

    def _write_customers(self, customers: pd.DataFrame, meta: pd.DataFrame) -> None:
        self.replace_table(CUSTOMERS_TABLE, customers)
        self.replace_table(META_TABLE, meta)

    def describe(self) -> dict[str, str]:
        """Backend name and location, for the app's sidebar and the CLI."""
        return {"backend": self.backend, "location": self.location}


def _plain_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """Nullable Int64/boolean columns without NULLs become int64/bool (as DuckDB returns them)."""
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.Int64Dtype | pd.BooleanDtype) and not s.isna().any():
            df[col] = s.astype("int64" if isinstance(s.dtype, pd.Int64Dtype) else "bool")
        elif isinstance(s.dtype, pd.StringDtype):
            df[col] = s.astype(object).where(s.notna(), None)
    return df


def _as_date(value: dt.date | str) -> dt.date:
    """A ``datetime.date`` from a date, a datetime or an ISO string (``YYYY-MM-DD``)."""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class SnapshotView(Warehouse):
    """A warehouse as of an earlier customer snapshot (see :meth:`Warehouse.at`).

    ``{customers}`` (and ``table("customers")``, ``schema("customers")``) name the snapshot's
    table ``customers_YYYYMMDD``; every other table and the connection are the base warehouse's.
    Building, metadata and closing go to the base warehouse.

    Parameters
    ----------
    base : Warehouse
        The warehouse whose ``customers`` is the latest snapshot.
    snapshot_date : datetime.date
        The snapshot shown.
    customers_table : str
        Its table (unqualified name).
    """

    def __init__(self, base: Warehouse, snapshot_date: dt.date, customers_table: str):
        super().__init__(base.raw_csv, base.enrich)
        self._base = base
        self.backend = base.backend
        self.after_build = base.after_build
        self.base_snapshot_date = base.base_snapshot_date
        self.snapshot_date = snapshot_date
        self.customers_table = customers_table

    def __getattr__(self, name: str) -> Any:  # backend attributes (path, project, dataset, client …)
        if name.startswith("__") or name == "_base":
            raise AttributeError(name)
        return getattr(self._base, name)

    def _name(self, name: str) -> str:
        return self.customers_table if name == CUSTOMERS_TABLE else name

    def table(self, name: str) -> str:
        return self._base.table(self._name(name))

    @property
    def location(self) -> str:
        return self._base.location

    def _query_arrow(self, sql: str, params: Mapping[str, Any]) -> pa.Table:
        return self._base._query_arrow(sql, params)

    def _query_df(self, sql: str, params: Mapping[str, Any]) -> pd.DataFrame:
        return self._base._query_df(sql, params)

    def _batches(self, sql: str, params: Mapping[str, Any], batch_size: int) -> Iterator[pd.DataFrame]:
        return self._base._batches(sql, params, batch_size)

    def _execute(self, sql: str, params: Mapping[str, Any]) -> int | None:
        return self._base._execute(sql, params)

    def _is_conflict(self, exc: BaseException, merge: bool) -> bool:
        return self._base._is_conflict(exc, merge)

    def _write(self, name: str, df: pd.DataFrame, types: dict[str, str], replace: bool) -> None:
        if name == CUSTOMERS_TABLE:
            raise ValueError(f"a snapshot view ({self.snapshot_date}) is read-only for customers")
        self._base._write(name, df, types, replace)

    def _merge(self, spec: TableSpec, df: pd.DataFrame, update: bool) -> int:
        return self._base._merge(spec, df, update)

    def table_exists(self, name: str) -> bool:
        return self._base.table_exists(self._name(name))

    def schema(self, name: str) -> dict[str, str]:
        return self._base.schema(self._name(name))

    def _create_empty(self, spec: TableSpec) -> None:
        self._base._create_empty(spec)

    def close(self) -> None:
        """Nothing: the view shares the base warehouse's connection."""

    def meta(self) -> dict[str, str]:
        return self._base.meta()

    def is_current(self) -> bool:
        return self._base.is_current()

    def ensure_built(self, progress: ProgressFn | None = None) -> bool:
        return self._base.ensure_built(progress)

    def build(self, *args: Any, **kwargs: Any) -> None:
        raise ValueError(f"a snapshot view ({self.snapshot_date}) cannot be built; build the base warehouse")

    def at(self, snapshot_date: dt.date | None) -> Warehouse:
        return self._base.at(snapshot_date)

    def describe(self) -> dict[str, str]:
        return {**self._base.describe(), "snapshot_date": self.snapshot_date.isoformat()}


# ======================================================================================
# DuckDB
# ======================================================================================
class DuckDBWarehouse(Warehouse):
    """The embedded default warehouse: one DuckDB file under ``data/``.

    One read-write connection per process (DuckDB allows one writing process per file);
    a second process gets :class:`WarehouseBusyError` after ``lock_timeout`` seconds.

    Parameters
    ----------
    path : str or Path
        Location of the warehouse file (created with its parent folder if missing).
    raw_csv : str or Path
        Raw customer CSV the ``customers`` table is built from.
    lock_timeout : float
        Seconds to keep retrying while another process holds the file.
    memory_limit : str
        DuckDB's buffer limit (``"1GB"``): bounds the memory its cache of the file uses.
    """

    backend = "duckdb"

    def __init__(
        self,
        path: str | Path,
        raw_csv: str | Path,
        lock_timeout: float = 10.0,
        memory_limit: str = "1GB",
        enrich: Enrich | None = None,
    ):
        super().__init__(raw_csv, enrich)
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.memory_limit = memory_limit
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        return str(self.path)

    def table(self, name: str) -> str:
        return name

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                deadline = time.monotonic() + self.lock_timeout
                delay = 0.05
                while True:
                    try:
                        con = duckdb.connect(str(self.path), config={"memory_limit": self.memory_limit})
                        break
                    except duckdb.IOException as exc:
                        if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                            raise WarehouseBusyError(
                                f"{self.path} is in use by another process ({exc}); stop it or wait"
                            ) from exc
                        time.sleep(delay)
                        delay = min(delay * 2, 1.0)
                # BigQuery's FARM_FINGERPRINT for deterministic samples (a different hash, same use).
                con.execute("CREATE MACRO IF NOT EXISTS farm_fingerprint(x) AS CAST(hash(x) >> 1 AS BIGINT)")
                self._con = con
            return self._con

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._connection().cursor()  # one cursor per call: thread-safe

    def _query_arrow(self, sql: str, params: Mapping[str, Any]) -> pa.Table:
        cursor = self._cursor()
        try:
            return cursor.sql(to_duckdb_sql(sql), params=_duck_params(params) or None).to_arrow_table()
        finally:
            cursor.close()

    def _query_df(self, sql: str, params: Mapping[str, Any]) -> pd.DataFrame:
        cursor = self._cursor()
        try:
            return cursor.execute(to_duckdb_sql(sql), _duck_params(params)).df()
        finally:
            cursor.close()

    def _batches(self, sql: str, params: Mapping[str, Any], batch_size: int) -> Iterator[pd.DataFrame]:
        cursor = self._cursor()
        try:
            relation = cursor.sql(to_duckdb_sql(sql), params=_duck_params(params) or None)
            reader = relation.to_arrow_reader(batch_size)
            for batch in reader:
                yield batch.to_pandas()
        finally:
            cursor.close()

    def _execute(self, sql: str, params: Mapping[str, Any]) -> int | None:
        cursor = self._cursor()
        try:
            cursor.execute(to_duckdb_sql(sql), _duck_params(params))
            desc = cursor.description
            rows = cursor.fetchall() if desc else []
        finally:
            cursor.close()
        return _count(rows, desc)

    def _is_conflict(self, exc: BaseException, merge: bool) -> bool:
        # Two cursors changing the same rows: "TransactionContext Error: Conflict on update!".
        # A racing MERGE may instead hit the unique index (at the statement, or at COMMIT: "Failed to
        # commit: PRIMARY KEY or UNIQUE constraint violation"); its retry then inserts nothing.
        text = str(exc).lower()
        if isinstance(exc, duckdb.TransactionException) and "conflict" in text:
            return True
        if not merge:
            return False
        return isinstance(exc, duckdb.ConstraintException) or (
            isinstance(exc, duckdb.TransactionException) and "constraint violation" in text
        )

    def _ddl(self, name: str, types: dict[str, str]) -> str:
        cols = ", ".join(f'"{c}" {DUCKDB_TYPES[t]}' for c, t in types.items())
        return f'CREATE OR REPLACE TABLE "{name}" ({cols})'

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction: committed on success, rolled back on any error."""
        cursor = self._cursor()
        try:
            cursor.execute("BEGIN TRANSACTION")
            yield cursor
            cursor.execute("COMMIT")
        except BaseException:
            with suppress(duckdb.TransactionException):  # a failed COMMIT has already ended the transaction
                cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()

    def _load(self, cursor: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame) -> None:
        view = f"_load_{threading.get_ident()}"
        cursor.register(view, df)
        try:
            cursor.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM "{view}"')
        finally:
            _unregister(cursor, view)

    @staticmethod
    def _key_index(cursor: duckdb.DuckDBPyConnection, name: str) -> None:
        spec = TABLES.get(name)
        if spec is not None and spec.key:
            cols = ", ".join(f'"{c}"' for c in spec.key)
            cursor.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}_key" ON "{name}" ({cols})')

    def _write(self, name: str, df: pd.DataFrame, types: dict[str, str], replace: bool) -> None:
        with self._transaction() as cursor:
            if replace or not self._exists(cursor, name):
                cursor.execute(self._ddl(name, types))
                self._key_index(cursor, name)
            self._load(cursor, name, df)

    def _merge(self, spec: TableSpec, df: pd.DataFrame, update: bool) -> int:
        on = " AND ".join(f'T."{k}" = S."{k}"' for k in spec.key)
        sets = ", ".join(f'"{c}" = S."{c}"' for c in spec.names if c not in spec.key)
        matched = f"WHEN MATCHED THEN UPDATE SET {sets} " if update and sets else ""
        view = f"_merge_{threading.get_ident()}"
        with self._transaction() as cursor:
            if not self._exists(cursor, spec.name):
                cursor.execute(self._ddl(spec.name, dict(spec.columns)))
                self._key_index(cursor, spec.name)
            cursor.register(view, df)
            try:
                cursor.execute(
                    f'MERGE INTO "{spec.name}" AS T USING "{view}" AS S ON {on} {matched}'
                    "WHEN NOT MATCHED THEN INSERT BY NAME"
                )
                return _count(cursor.fetchall(), cursor.description) or 0
            finally:
                _unregister(cursor, view)

    def _ensure_key(self, spec: TableSpec) -> None:
        cursor = self._cursor()
        try:
            self._key_index(cursor, spec.name)
        except duckdb.ConstraintException as exc:  # an old table holding duplicates: say so, keep working
            import warnings

            warnings.warn(f"table {spec.name!r} has duplicate keys {spec.key}; not enforced: {exc}", stacklevel=2)
        finally:
            cursor.close()

    def _write_customers(self, customers: pd.DataFrame, meta: pd.DataFrame) -> None:
        # One transaction for both tables: a crash leaves the old customers and metadata.
        with self._transaction() as cursor:
            cursor.execute(self._ddl(CUSTOMERS_TABLE, {c: bigquery_type(t) for c, t in customers.dtypes.items()}))
            self._load(cursor, CUSTOMERS_TABLE, customers)
            cursor.execute(self._ddl(META_TABLE, {"key": "STRING", "value": "STRING"}))
            cursor.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)", meta.to_numpy().tolist())
        cursor = self._cursor()
        try:
            cursor.execute("CHECKPOINT")  # the new table on disk now, not at the next automatic checkpoint
        finally:
            cursor.close()

    @staticmethod
    def _exists(cursor: duckdb.DuckDBPyConnection, name: str) -> bool:
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'"
        return cursor.execute(sql, [name]).fetchall()[0][0] > 0

    def table_exists(self, name: str) -> bool:
        if not self.path.exists() and self._con is None:
            return False
        cursor = self._cursor()
        try:
            return self._exists(cursor, name)
        finally:
            cursor.close()

    def schema(self, name: str) -> dict[str, str]:
        sql = (
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position"
        )
        cursor = self._cursor()
        try:
            rows = cursor.execute(sql, [name]).fetchall()
        finally:
            cursor.close()
        if not rows:
            raise KeyError(f"no table {name!r} in {self.path}")
        return {c: FROM_DUCKDB.get(t, t) for c, t in rows}

    def _create_empty(self, spec: TableSpec) -> None:
        with self._transaction() as cursor:
            cursor.execute(self._ddl(spec.name, dict(spec.columns)).replace("CREATE OR REPLACE", "CREATE"))
            self._key_index(cursor, spec.name)


def _unregister(cursor: duckdb.DuckDBPyConnection, view: str) -> None:
    """Drop a registered DataFrame view; after a failed statement the aborted transaction refuses
    (the view dies with the cursor then), and the statement's own error is the one to raise."""
    with suppress(duckdb.TransactionException):
        cursor.unregister(view)


def _count(rows: list, desc) -> int | None:
    """Rows changed, from the ``Count`` column DuckDB returns for DML (None for DDL)."""
    if rows and desc and desc[0][0] == "Count" and isinstance(rows[0][0], int):
        return int(rows[0][0])
    return None


def _duck_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple | np.ndarray) else v) for k, v in params.items()}


# ======================================================================================
# BigQuery
# ======================================================================================
class BigQueryWarehouse(Warehouse):
    """BigQuery backend (``google-cloud-bigquery`` with ``db-dtypes``).

    Loads use resumable Parquet load jobs into tables created with explicit schemas. A
    replacing load goes to a staging table first and is swapped in by one atomic
    ``CREATE OR REPLACE TABLE … AS SELECT``: a load that fails (bad rows, a dropped
    connection, a quota) leaves the old rows. Large results stream page by page; install
    ``google-cloud-bigquery-storage`` to read them through the Storage Read API instead.

    Parameters
    ----------
    project, dataset : str
        Where the tables live (the dataset is created if missing).
    raw_csv : str or Path
        Raw customer CSV the ``customers`` table is built from.
    location : str
        Dataset location, for example ``"US"`` or ``"asia-northeast3"`` (Seoul).
    credentials_file : str or Path, optional
        Service-account key file; default: Application Default Credentials.
    api_endpoint : str, optional
        Endpoint of a local emulator (``http://127.0.0.1:9050``); uses anonymous credentials.
    """

    backend = "bigquery"

    def __init__(
        self,
        project: str,
        dataset: str,
        raw_csv: str | Path,
        location: str = "US",
        credentials_file: str | Path | None = None,
        api_endpoint: str | None = None,
        enrich: Enrich | None = None,
    ):
        super().__init__(raw_csv, enrich)
        self.project = project
        self.dataset = dataset
        self.bq_location = location
        self.credentials_file = credentials_file
        self.api_endpoint = api_endpoint
        self._client = None
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        return f"{self.project}.{self.dataset}"

    @property
    def client(self):
        """The ``google.cloud.bigquery.Client`` (created on first use, dataset ensured)."""
        with self._lock:
            if self._client is None:
                from google.cloud import bigquery

                kwargs: dict[str, Any] = {"project": self.project, "location": self.bq_location}
                if self.api_endpoint:
                    from google.api_core.client_options import ClientOptions
                    from google.auth.credentials import AnonymousCredentials

                    kwargs |= {
                        "credentials": AnonymousCredentials(),
                        "client_options": ClientOptions(api_endpoint=self.api_endpoint),
                    }
                elif self.credentials_file:
                    from google.oauth2 import service_account

                    kwargs["credentials"] = service_account.Credentials.from_service_account_file(
                        str(self.credentials_file)
                    )
                client = bigquery.Client(**kwargs)
                ds = bigquery.Dataset(f"{self.project}.{self.dataset}")
                ds.location = self.bq_location
                client.create_dataset(ds, exists_ok=True)
                self._client = client
            return self._client

    def table(self, name: str) -> str:
        return f"`{self.project}.{self.dataset}.{name}`"

    def _job_config(self, params: Mapping[str, Any]):
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(query_parameters=[_bq_param(k, v) for k, v in params.items()])

    def _query_arrow(self, sql: str, params: Mapping[str, Any]) -> pa.Table:
        job = self.client.query(sql, job_config=self._job_config(params))
        return job.result().to_arrow(create_bqstorage_client=False)

    def _batches(self, sql: str, params: Mapping[str, Any], batch_size: int) -> Iterator[pd.DataFrame]:
        job = self.client.query(sql, job_config=self._job_config(params))
        rows = job.result(page_size=batch_size)
        yield from rows.to_dataframe_iterable(bqstorage_client=None)

    def _execute(self, sql: str, params: Mapping[str, Any]) -> int | None:
        job = self.client.query(sql, job_config=self._job_config(params))
        job.result()
        return job.num_dml_affected_rows

    def _is_conflict(self, exc: BaseException, merge: bool) -> bool:
        from google.api_core.exceptions import GoogleAPICallError

        return isinstance(exc, GoogleAPICallError) and bool(_BQ_CONFLICT.search(str(exc)))

    def _schema_fields(self, types: dict[str, str]):
        from google.cloud import bigquery

        return [bigquery.SchemaField(c, t) for c, t in types.items()]

    def _ref(self, name: str) -> str:
        return f"{self.project}.{self.dataset}.{name}"

    def _load(self, name: str, buf: io.BytesIO, fields, write_disposition: str) -> None:
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET, write_disposition=write_disposition, schema=fields
        )
        # size=None -> a resumable upload (works on BigQuery and on the local emulator).
        self.client.load_table_from_file(buf, self._ref(name), size=None, job_config=config).result()

    @contextmanager
    def _staging(self, name: str, df: pd.DataFrame, types: dict[str, str]) -> Iterator[str]:
        """Load ``df`` into a new staging table; yield its name; always drop it after."""
        import uuid

        from google.cloud import bigquery

        buf = _parquet(df)  # a conversion error stops here, before any table is touched
        staging = f"_staging_{name}_{uuid.uuid4().hex[:12]}"
        fields = self._schema_fields(types)
        try:
            self.client.create_table(bigquery.Table(self._ref(staging), schema=fields))
            self._load(staging, buf, fields, "WRITE_TRUNCATE")
            yield staging
        finally:
            self.client.delete_table(self._ref(staging), not_found_ok=True)

    def _swap(self, name: str, staging: str) -> None:
        """Replace table ``name`` by the staging table in one atomic statement."""
        self._execute(f"CREATE OR REPLACE TABLE {self.table(name)} AS SELECT * FROM {self.table(staging)}", {})

    def _write(self, name: str, df: pd.DataFrame, types: dict[str, str], replace: bool) -> None:
        from google.cloud import bigquery

        if replace:
            with self._staging(name, df, types) as staging:
                self._swap(name, staging)
            return
        fields = self._schema_fields(types)
        buf = _parquet(df)
        if not self.table_exists(name):
            self.client.create_table(bigquery.Table(self._ref(name), schema=fields), exists_ok=True)
        self._load(name, buf, fields, "WRITE_APPEND")

    def _merge(self, spec: TableSpec, df: pd.DataFrame, update: bool) -> int:
        if not self.table_exists(spec.name):
            self._create_empty(spec)
        on = " AND ".join(f"T.`{k}` = S.`{k}`" for k in spec.key)
        sets = ", ".join(f"`{c}` = S.`{c}`" for c in spec.names if c not in spec.key)
        matched = f"WHEN MATCHED THEN UPDATE SET {sets} " if update and sets else ""
        cols = ", ".join(f"`{c}`" for c in spec.names)
        values = ", ".join(f"S.`{c}`" for c in spec.names)
        with self._staging(spec.name, df, dict(spec.columns)) as staging:
            sql = (
                f"MERGE {self.table(spec.name)} AS T USING {self.table(staging)} AS S ON {on} {matched}"
                f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({values})"
            )
            return self._execute(sql, {}) or 0  # retried as a whole by merge_rows

    def table_exists(self, name: str) -> bool:
        from google.api_core.exceptions import NotFound

        try:
            self.client.get_table(f"{self.project}.{self.dataset}.{name}")
        except NotFound:
            return False
        return True

    def schema(self, name: str) -> dict[str, str]:
        from google.api_core.exceptions import NotFound

        try:
            table = self.client.get_table(f"{self.project}.{self.dataset}.{name}")
        except NotFound as exc:
            raise KeyError(f"no table {name!r} in {self.location}") from exc
        aliases = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}
        return {f.name: aliases.get(f.field_type, f.field_type) for f in table.schema}

    def _create_empty(self, spec: TableSpec) -> None:
        from google.cloud import bigquery

        ref = f"{self.project}.{self.dataset}.{spec.name}"
        self.client.create_table(bigquery.Table(ref, schema=self._schema_fields(dict(spec.columns))), exists_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _parquet(df: pd.DataFrame) -> io.BytesIO:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    buf.seek(0)
    return buf


def _bq_type(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "BOOL"
    if isinstance(value, int | np.integer):
        return "INT64"
    if isinstance(value, float | np.floating):
        return "FLOAT64"
    if isinstance(value, dt.datetime | pd.Timestamp):
        return "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    return "STRING"


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _bq_param(name: str, value: Any):
    from google.cloud import bigquery

    if isinstance(value, list | tuple | np.ndarray):
        values = [_py(v) for v in value]
        kind = _bq_type(values[0]) if values else "STRING"
        return bigquery.ArrayQueryParameter(name, kind, values)
    return bigquery.ScalarQueryParameter(name, _bq_type(value) if value is not None else "STRING", _py(value))


# ======================================================================================
def open_warehouse(settings: Settings | None = None, enrich: Enrich | None = None) -> Warehouse:
    """The warehouse the settings select (``CHURN_WAREHOUSE_BACKEND``: duckdb or bigquery).

    ``enrich`` adds derived columns on build (see :class:`Warehouse`); the app and the
    commands use :func:`churn_core.studio.open_studio_warehouse`, which passes segments.

    Raises
    ------
    ValueError
        If BigQuery is selected without a project.
    """
    s = settings or get_settings()
    wh = _open_backend(s, enrich)
    wh.base_snapshot_date = s.base_snapshot_date
    return wh


def _open_backend(s: Settings, enrich: Enrich | None) -> Warehouse:
    if s.warehouse_backend == "bigquery":
        if not s.bigquery_project:
            raise ValueError("CHURN_BIGQUERY_PROJECT must be set when CHURN_WAREHOUSE_BACKEND=bigquery")
        return BigQueryWarehouse(
            s.bigquery_project,
            s.bigquery_dataset,
            s.raw_customers_csv,
            location=s.bigquery_location,
            credentials_file=s.bigquery_credentials_file,
            api_endpoint=s.bigquery_api_endpoint,
            enrich=enrich,
        )
    return DuckDBWarehouse(s.warehouse_path, s.raw_customers_csv, memory_limit=s.duckdb_memory_limit, enrich=enrich)


def record_run(wh: Warehouse, run: dict[str, Any]) -> None:
    """Append one row to ``model_runs`` (``details`` given as a dict is stored as JSON)."""
    row = dict(run)
    if not isinstance(row.get("details"), str):
        row["details"] = json.dumps(row.get("details") or {}, default=str)
    wh.append_rows("model_runs", pd.DataFrame([row]))
