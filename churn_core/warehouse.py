"""Embedded DuckDB warehouse, built from the raw customer CSV on first use.

Queries are written once in BigQuery standard SQL with named ``@parameters`` and a
``{customers}`` table placeholder; the DuckDB backend translates them with sqlglot, so
the same text can run on BigQuery later (issue: one warehouse interface).

The warehouse file is rebuilt only when the raw file's SHA-256 or
:data:`SCHEMA_VERSION` changes. A build writes a temporary file and renames it into
place, so a crash never leaves a half-built warehouse and readers never see one.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import sqlglot

from churn_core.loading import file_sha256, load_customers
from churn_core.segments import Segmenter

#: Bump when the derived columns or table layout change, to force a rebuild.
SCHEMA_VERSION = "2"
CUSTOMERS_TABLE = "customers"

ProgressFn = Callable[[float, str], None]


@lru_cache(maxsize=512)
def to_duckdb_sql(sql: str) -> str:
    """Translate a BigQuery-dialect query (``@name`` parameters) to DuckDB SQL (``$name``).

    Raises
    ------
    sqlglot.errors.ParseError
        If ``sql`` is not valid BigQuery SQL.
    """
    return sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]


class DuckDBWarehouse:
    """The embedded default warehouse: one DuckDB file under ``data/``.

    Parameters
    ----------
    path : str or Path
        Location of the warehouse file (created with its parent folder if missing).
    raw_csv : str or Path
        Raw customer CSV (extended IBM schema) the ``customers`` table is built from.
    """

    def __init__(self, path: str | Path, raw_csv: str | Path):
        self.path = Path(path)
        self.raw_csv = Path(raw_csv)
        self._con: duckdb.DuckDBPyConnection | None = None

    # -- building ---------------------------------------------------------------------
    def _stored_meta(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            with duckdb.connect(str(self.path), read_only=True) as con:
                rows = con.execute("SELECT key, value FROM _meta").fetchall()
        except duckdb.Error:
            return {}
        return dict(rows)

    def is_current(self) -> bool:
        """Return True if the file exists and was built from the current raw file and code."""
        meta = self._stored_meta()
        return meta.get("raw_sha256") == file_sha256(self.raw_csv) and meta.get("schema_version") == SCHEMA_VERSION

    def ensure_built(self, progress: ProgressFn | None = None) -> bool:
        """Build the warehouse if it is missing or stale.

        Parameters
        ----------
        progress : callable(fraction, message), optional
            Called with a fraction in [0, 1] and an English step name while building.

        Returns
        -------
        bool
            True if a build ran, False if the file was already current.

        Raises
        ------
        churn_core.loading.DataValidationError
            If the raw file breaks the schema (the old warehouse, if any, is kept).
        """
        if self.is_current():
            return False
        self.build(progress)
        return True

    def build(self, progress: ProgressFn | None = None) -> None:
        """Validate the raw CSV and (re)write the warehouse file atomically."""
        report = progress or (lambda fraction, message: None)
        report(0.05, "validating raw file")
        customers = load_customers(self.raw_csv)
        report(0.3, "segmenting customers (k-means)")
        customers["segment"] = Segmenter().fit(customers).predict(customers).astype("int64")
        report(0.6, "writing customers table")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with duckdb.connect(str(tmp)) as con:
                con.register("customers_df", customers)
                con.execute(f"CREATE TABLE {CUSTOMERS_TABLE} AS SELECT * FROM customers_df")
                con.unregister("customers_df")
                meta = {
                    "raw_sha256": file_sha256(self.raw_csv),
                    "raw_file": self.raw_csv.name,
                    "schema_version": SCHEMA_VERSION,
                    "n_customers": str(len(customers)),
                    "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                }
                con.execute("CREATE TABLE _meta (key VARCHAR, value VARCHAR)")
                con.executemany("INSERT INTO _meta VALUES (?, ?)", list(meta.items()))
                con.execute("CHECKPOINT")
            self.close()
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
        report(1.0, "done")

    # -- querying ---------------------------------------------------------------------
    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect(str(self.path), read_only=True)
        return self._con

    def close(self) -> None:
        """Close the read connection (a later query opens a new one)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def table(self, name: str = CUSTOMERS_TABLE) -> str:
        """Return the qualified name of a table for use in SQL text."""
        return name

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run a BigQuery-dialect query and return its result.

        Parameters
        ----------
        sql : str
            Query text in BigQuery standard SQL; ``{customers}`` is replaced by the
            customers table; parameters are written ``@name``.
        params : mapping of str to scalar or list, optional
            Values of the named parameters (lists for ``IN UNNEST(@name)``).

        Returns
        -------
        pandas.DataFrame
            The result set.

        Raises
        ------
        duckdb.Error
            If the query fails on the warehouse.
        """
        text = to_duckdb_sql(sql.format(customers=self.table(CUSTOMERS_TABLE)))
        cursor = self._connection().cursor()  # one cursor per query: thread-safe
        try:
            return cursor.execute(text, dict(params or {})).df()
        finally:
            cursor.close()

    def meta(self) -> dict[str, str]:
        """Return the build metadata (raw file hash, build time, row count)."""
        return dict(self.query("SELECT key, value FROM _meta").itertuples(index=False))
