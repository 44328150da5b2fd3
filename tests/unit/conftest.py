"""Fixtures of the unit tests."""

from __future__ import annotations

import shutil

import pytest

from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.studio import STUDIO_ENRICH


@pytest.fixture
def wh(tmp_path):
    """A private DuckDB warehouse built from a copy of the raw file (for tests that write)."""
    raw = tmp_path / "raw.csv"
    shutil.copy(RAW_CUSTOMERS_CSV, raw)
    w = DuckDBWarehouse(tmp_path / "w.duckdb", raw, enrich=STUDIO_ENRICH)
    w.ensure_built()
    yield w
    w.close()


@pytest.fixture
def store(tmp_path):
    """An empty DuckDB warehouse with the declared tables only (no customers: none are needed)."""
    w = DuckDBWarehouse(tmp_path / "store.duckdb", RAW_CUSTOMERS_CSV)
    w.ensure_tables()
    yield w
    w.close()
