"""Shared fixtures: the real raw file, its validated table, and throw-away warehouses.

The whole session points ``CHURN_WAREHOUSE_PATH`` at a temporary file, so tests (and the
app they start) never touch a developer's ``data/warehouse.duckdb``.

``warehouse`` is parametrised over both backends: the DuckDB file and a dataset on the
local BigQuery emulator, reached with the real ``google-cloud-bigquery`` client
(``CHURN_TEST_BQ_ENDPOINT`` when ``tests/bq_emulator.py run`` started it, otherwise this
session starts one itself). Every test that takes ``warehouse`` runs on both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from churn_core.config import RAW_CUSTOMERS_CSV, get_settings
from churn_core.data.loading import load_customers
from churn_core.data.warehouse import BigQueryWarehouse, DuckDBWarehouse, Warehouse
from churn_core.studio import STUDIO_ENRICH
from tests.helpers.bq_emulator import running_emulator
from tests.helpers.warehouses import new_bigquery_warehouse

BACKENDS = ("duckdb", "bigquery")


@pytest.fixture(autouse=True)
def fresh_log_context() -> Iterator[None]:
    """Each test starts with no log context (a command run in-process binds its run id for the process)."""
    from churn_core.logs import log_context

    with log_context(run_id=None, model_version=None):
        yield


@pytest.fixture(scope="session", autouse=True)
def isolated_warehouse_path(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb")
    os.environ["CHURN_WAREHOUSE_PATH"] = path
    # the model registry too (issue #14): seeded from models/ on first use, never the developer's data/registry
    os.environ["CHURN_REGISTRY_DIR"] = str(tmp_path_factory.mktemp("registry"))
    os.environ["CHURN_LOG_DIR"] = str(tmp_path_factory.mktemp("logs"))  # JSON logs (issue #14), never data/logs
    get_settings.cache_clear()
    return path


@pytest.fixture
def private_settings(monkeypatch, tmp_path) -> Iterator[Path]:
    """Settings whose warehouse is a DuckDB file of this test's own (``tmp_path / "w.duckdb"``)."""
    monkeypatch.setenv("CHURN_WAREHOUSE_PATH", str(tmp_path / "w.duckdb"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def raw_bytes() -> bytes:
    return RAW_CUSTOMERS_CSV.read_bytes()


@pytest.fixture(scope="session")
def customers() -> pd.DataFrame:
    return load_customers(RAW_CUSTOMERS_CSV)


@pytest.fixture(scope="session")
def duckdb_warehouse(isolated_warehouse_path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(isolated_warehouse_path, RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    wh.ensure_built()
    return wh


@pytest.fixture(scope="session")
def bq_endpoint(tmp_path_factory) -> Iterator[str]:
    """REST endpoint of a local BigQuery emulator on 127.0.0.1."""
    if os.environ.get("CHURN_TEST_BQ_ENDPOINT"):
        yield os.environ["CHURN_TEST_BQ_ENDPOINT"]
        return
    with running_emulator(tmp_path_factory.mktemp("bqemu") / "bqemulator.log") as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def bigquery_warehouse(bq_endpoint) -> BigQueryWarehouse:
    wh = new_bigquery_warehouse(bq_endpoint)
    wh.ensure_built()
    return wh


@pytest.fixture(scope="session", params=BACKENDS)
def warehouse(request) -> Warehouse:
    """The built warehouse on each backend in turn (DuckDB, then the BigQuery emulator)."""
    return request.getfixturevalue(f"{request.param}_warehouse")


@pytest.fixture(scope="session")
def compiled_bundle(tmp_path_factory):
    """A copy of the shipped extended bundle with its compiled form (``compiled/``), built once per session."""
    from tests.helpers.compiled import compiled_bundle_copy

    return compiled_bundle_copy(tmp_path_factory.mktemp("compiled") / "bundle")


@pytest.fixture(scope="session")
def warehouse_table(duckdb_warehouse) -> pd.DataFrame:
    """The whole customers table as the DuckDB warehouse holds it (with the k-means segment)."""
    return duckdb_warehouse.query("SELECT * FROM {customers} ORDER BY customer_id")
