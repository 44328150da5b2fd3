"""Shared fixtures: the real raw file, its validated table, and a throw-away warehouse.

The whole session points ``CHURN_WAREHOUSE_PATH`` at a temporary file, so tests (and the
app they start) never touch a developer's ``data/warehouse.duckdb``.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from churn_core.config import RAW_CUSTOMERS_CSV, get_settings
from churn_core.loading import load_customers
from churn_core.warehouse import DuckDBWarehouse


@pytest.fixture(scope="session", autouse=True)
def isolated_warehouse_path(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb")
    os.environ["CHURN_WAREHOUSE_PATH"] = path
    get_settings.cache_clear()
    return path


@pytest.fixture(scope="session")
def raw_bytes() -> bytes:
    return RAW_CUSTOMERS_CSV.read_bytes()


@pytest.fixture(scope="session")
def customers() -> pd.DataFrame:
    return load_customers(RAW_CUSTOMERS_CSV)


@pytest.fixture(scope="session")
def warehouse(isolated_warehouse_path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(isolated_warehouse_path, RAW_CUSTOMERS_CSV)
    wh.ensure_built()
    return wh


@pytest.fixture(scope="session")
def warehouse_table(warehouse) -> pd.DataFrame:
    """The whole customers table as the warehouse holds it (with the k-means segment)."""
    return warehouse.query("SELECT * FROM {customers} ORDER BY customer_id")
