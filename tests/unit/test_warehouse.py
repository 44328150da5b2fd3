"""The DuckDB warehouse builds once, rebuilds when the raw file changes, and survives bad input."""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest

from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.loading import DataValidationError, file_sha256
from churn_core.data.warehouse import DuckDBWarehouse, to_duckdb_sql
from churn_core.studio import STUDIO_ENRICH

pytestmark = pytest.mark.unit


@pytest.fixture
def private(tmp_path) -> DuckDBWarehouse:
    raw = tmp_path / "raw.csv"
    shutil.copy(RAW_CUSTOMERS_CSV, raw)
    return DuckDBWarehouse(tmp_path / "wh" / "w.duckdb", raw, enrich=STUDIO_ENRICH)


def _edit_raw(path, edit) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(df)
    path.write_bytes(df.to_csv(index=False).encode())


def test_build_is_idempotent(private: DuckDBWarehouse) -> None:
    assert private.ensure_built() is True
    stamp = private.path.stat().st_mtime_ns
    assert private.ensure_built() is False
    assert private.path.stat().st_mtime_ns == stamp
    meta = private.meta()
    assert meta["raw_sha256"] == file_sha256(private.raw_csv)
    assert meta["n_customers"] == "7043"
    assert not list(private.path.parent.glob("*.tmp"))


def test_rebuilds_when_raw_file_changes(private: DuckDBWarehouse) -> None:
    private.ensure_built()

    def edit(df):
        df.loc[0:99, "Contract"] = df.loc[0:99, "Contract"].replace({"Month-to-month": "Two year"})

    _edit_raw(private.raw_csv, edit)
    before = private.query("SELECT COUNT(*) AS n FROM {customers} WHERE contract = 'Two year'")["n"].iloc[0]
    assert not private.is_current()
    assert private.ensure_built() is True
    after = private.query("SELECT COUNT(*) AS n FROM {customers} WHERE contract = 'Two year'")["n"].iloc[0]
    expected = (pd.read_csv(private.raw_csv)["Contract"] == "Two year").sum()
    assert after == expected > before


def test_invalid_raw_file_keeps_old_warehouse(private: DuckDBWarehouse) -> None:
    private.ensure_built()
    _edit_raw(private.raw_csv, lambda df: df.__setitem__("tenure", "x"))
    with pytest.raises(DataValidationError, match="tenure"):
        private.ensure_built()
    assert private.query("SELECT COUNT(*) AS n FROM {customers}")["n"].iloc[0] == 7043


def test_parameters_and_arrays_translate_to_duckdb(private: DuckDBWarehouse) -> None:
    sql = "SELECT COUNT(*) AS n FROM {customers} WHERE tenure >= @t AND contract IN UNNEST(@c)"
    assert "$t" in to_duckdb_sql(sql.format(customers="customers"))
    private.ensure_built()
    got = private.query(sql, {"t": 24, "c": ["One year", "Two year"]})["n"].iloc[0]
    df = pd.read_csv(io.BytesIO(private.raw_csv.read_bytes()))
    assert got == ((df["tenure"] >= 24) & df["Contract"].isin(["One year", "Two year"])).sum()


def test_a_warehouse_built_without_segments_is_not_current_for_the_studio(tmp_path) -> None:
    raw = tmp_path / "raw.csv"
    shutil.copy(RAW_CUSTOMERS_CSV, raw)
    plain = DuckDBWarehouse(tmp_path / "w.duckdb", raw)
    plain.ensure_built()
    assert "segment" not in plain.schema("customers")
    plain.close()
    studio = DuckDBWarehouse(tmp_path / "w.duckdb", raw, enrich=STUDIO_ENRICH)
    assert not studio.is_current()
    assert studio.ensure_built() is True and "segment" in studio.schema("customers")
    assert studio.meta()["enrich"] == studio.enrich_name != ""
