"""One warehouse interface with two backends: embedded DuckDB (default) and BigQuery.

Queries are written once in BigQuery standard SQL, with named ``@parameters`` and table
placeholders in braces (``{customers}``, ``{scores}``, ``{outbox}`` …, see
:mod:`churn_core.data.tables`). BigQuery runs them as they are; the DuckDB backend translates
them with sqlglot. Every page and command reaches the data through :class:`Warehouse`:

* :meth:`Warehouse.query` / :meth:`Warehouse.query_arrow` — a parameterised query;
* :meth:`Warehouse.iter_batches` — a large result streamed in bounded chunks;
* :meth:`Warehouse.replace_table` / :meth:`Warehouse.append_rows` — load data;
* :meth:`Warehouse.execute` — DML (``INSERT``, ``UPDATE``, ``MERGE``);
* :meth:`Warehouse.schema` — the columns and BigQuery types of a table.

The ``customers`` table is (re)built from the raw CSV when the file's SHA-256 or
:data:`SCHEMA_VERSION` changes; the rebuild replaces that table only, in one transaction
(DuckDB) or one load job (BigQuery), so scores, contacts and the outreach ledger survive
it. :func:`open_warehouse` picks the backend from the settings.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import sqlglot

from churn_core.config import Settings, get_settings
from churn_core.data.loading import file_sha256, load_customers
from churn_core.data.tables import DUCKDB_TYPES, FROM_DUCKDB, TABLES, TableSpec, bigquery_type

#: Bump when the derived columns or table layout change, to force a rebuild.
SCHEMA_VERSION = "3"
CUSTOMERS_TABLE = "customers"
META_TABLE = "_meta"

ProgressFn = Callable[[float, str], None]
#: A step that adds derived columns to validated customers before they are written
#: (the studio adds k-means segments, see :func:`churn_core.studio.open_studio_warehouse`).
Enrich = Callable[[pd.DataFrame], pd.DataFrame]
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

    @abstractmethod
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int | None:
        """Run a DML or DDL statement (BigQuery dialect, ``{table}`` placeholders).

        Returns
        -------
        int or None
            Rows changed by an ``INSERT``/``UPDATE``/``DELETE``/``MERGE`` (None for DDL).
        """

    @abstractmethod
    def _write(self, name: str, df: pd.DataFrame, types: dict[str, str], replace: bool) -> None: ...

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
        """Create every declared table that does not exist yet (empty)."""
        for spec in TABLES.values():
            if not self.table_exists(spec.name):
                self._create_empty(spec)

    def meta(self) -> dict[str, str]:
        """Build metadata (raw file hash, build time, row count); empty if never built."""
        if not self.table_exists(META_TABLE):
            return {}
        return dict(self.query("SELECT key, value FROM {_meta}").itertuples(index=False))

    def is_current(self) -> bool:
        """True if ``customers`` was built from the current raw file and code, or is pinned.

        A pinned warehouse (synthetic data loaded by :func:`churn_core.data.synthetic.load_synthetic`
        for load tests) is never rebuilt from the raw file.
        """
        meta = self.meta()
        if meta.get("pinned") == "true" and meta.get("schema_version") == SCHEMA_VERSION:
            return True
        return meta.get("raw_sha256") == file_sha256(self.raw_csv) and meta.get("schema_version") == SCHEMA_VERSION

    def ensure_built(self, progress: ProgressFn | None = None) -> bool:
        """Build ``customers`` if missing or stale, and create missing declared tables.

        Parameters
        ----------
        progress : callable(fraction, message), optional
            Called with a fraction in [0, 1] and an English step name while building.

        Returns
        -------
        bool
            True if a build ran, False if the warehouse was already current.

        Raises
        ------
        churn_core.data.loading.DataValidationError
            If the raw file breaks the schema (the old ``customers`` table, if any, is kept).
        """
        built = False
        if not self.is_current():
            self.build(progress)
            built = True
        self.ensure_tables()
        return built

    def build(self, progress: ProgressFn | None = None, customers: pd.DataFrame | None = None) -> None:
        """Validate the raw CSV and replace the ``customers`` table and build metadata.

        Parameters
        ----------
        customers : pandas.DataFrame, optional
            Already validated customers (warehouse names, with ``segment``) to load instead
            of the raw file: synthetic data for benchmarks. Metadata then says so.
        """
        report = progress or _quiet
        if customers is None:
            report(0.05, "validating raw file")
            customers = load_customers(self.raw_csv)
            if self.enrich is not None:
                report(0.3, "deriving columns")
                customers = self.enrich(customers)
            sha = file_sha256(self.raw_csv)
        else:
            sha = "synthetic"
        report(0.6, "writing customers table")
        meta = {
            "raw_sha256": sha,
            "raw_file": self.raw_csv.name,
            "schema_version": SCHEMA_VERSION,
            "n_customers": str(len(customers)),
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        self._write_customers(customers, pd.DataFrame(list(meta.items()), columns=["key", "value"]))
        report(1.0, "done")

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

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int | None:
        cursor = self._cursor()
        try:
            cursor.execute(to_duckdb_sql(self.render(sql)), _duck_params(params or {}))
            desc = cursor.description
            rows = cursor.fetchall() if desc else []
        finally:
            cursor.close()
        if rows and desc[0][0] == "Count" and isinstance(rows[0][0], int):
            return int(rows[0][0])
        return None

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
            cursor.unregister(view)

    def _write(self, name: str, df: pd.DataFrame, types: dict[str, str], replace: bool) -> None:
        with self._transaction() as cursor:
            if replace or not self._exists(cursor, name):
                cursor.execute(self._ddl(name, types))
            self._load(cursor, name, df)

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
        cursor = self._cursor()
        try:
            cursor.execute(self._ddl(spec.name, dict(spec.columns)).replace("CREATE OR REPLACE", "CREATE"))
        finally:
            cursor.close()


def _duck_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple | np.ndarray) else v) for k, v in params.items()}


# ======================================================================================
# BigQuery
# ======================================================================================
class BigQueryWarehouse(Warehouse):
    """BigQuery backend (``google-cloud-bigquery`` with ``db-dtypes``).

    Loads use resumable Parquet load jobs into tables created with explicit schemas
    (``WRITE_TRUNCATE`` is atomic per job). Large results stream page by page; install
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

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int | None:
        job = self.client.query(self.render(sql), job_config=self._job_config(params or {}))
        job.result()
        return job.num_dml_affected_rows

    def _schema_fields(self, types: dict[str, str]):
        from google.cloud import bigquery

        return [bigquery.SchemaField(c, t) for c, t in types.items()]

    def _write(self, name: str, df: pd.DataFrame, types: dict[str, str], replace: bool) -> None:
        from google.cloud import bigquery

        ref = f"{self.project}.{self.dataset}.{name}"
        fields = self._schema_fields(types)
        if replace:
            self.client.delete_table(ref, not_found_ok=True)
        if replace or not self.table_exists(name):
            self.client.create_table(bigquery.Table(ref, schema=fields))
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        buf.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition="WRITE_TRUNCATE" if replace else "WRITE_APPEND",
            schema=fields,
        )
        # size=None -> a resumable upload (works on BigQuery and on the local emulator).
        self.client.load_table_from_file(buf, ref, size=None, job_config=config).result()

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
