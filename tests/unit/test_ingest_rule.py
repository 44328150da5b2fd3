"""The ingest rule (issue #13 review): an ingested ``customers`` table outranks the configured file
until that file's content or the schema version changes; a refused ingest writes nothing.

Run through the real CLI (typer's CliRunner) on a temporary DuckDB warehouse, with a configured
customer file whose bytes differ from the ingested one.
"""

from __future__ import annotations

import gc

import pytest
from typer.testing import CliRunner

from churn_core import cli
from churn_core.config import get_settings
from churn_core.data.warehouse import DuckDBWarehouse
from tests.helpers.classic import classic_bytes

pytestmark = pytest.mark.unit
runner = CliRunner()


@pytest.fixture
def configured(monkeypatch, tmp_path):
    """A configured classic file of 300 customers and a warehouse of this test."""
    path = tmp_path / "configured.csv"
    path.write_bytes(classic_bytes(rows=300))
    monkeypatch.setenv("CHURN_RAW_CUSTOMERS_CSV", str(path))
    monkeypatch.setenv("CHURN_WAREHOUSE_PATH", str(tmp_path / "w.duckdb"))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _meta(tmp_path) -> dict[str, str]:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb", tmp_path / "configured.csv")
    try:
        return wh.meta()
    finally:
        wh.close()


def test_an_ingest_is_kept_until_the_configured_file_changes(configured, tmp_path) -> None:
    ingested = tmp_path / "mine.csv"
    ingested.write_bytes(classic_bytes(rows=200))
    result = runner.invoke(cli.app, ["ingest", str(ingested)])
    assert result.exit_code == 0, result.output
    assert "200 customers, classic schema" in result.output

    scored = runner.invoke(cli.app, ["score"])  # ensure_built keeps the ingested table
    assert scored.exit_code == 0, scored.output
    assert "200 customers" in scored.output and "rebuilding" not in scored.output
    info = runner.invoke(cli.app, ["warehouse", "info"])
    assert "mine.csv" in info.output, info.output
    meta = _meta(tmp_path)
    assert meta["source"] == "ingest" and meta["raw_file"] == "mine.csv" and meta["n_customers"] == "200"
    assert meta["configured_raw_file"] == "configured.csv"
    assert len(meta["configured_raw_sha256"]) == 64 and meta["configured_raw_sha256"] != meta["raw_sha256"]

    bad = tmp_path / "bad.csv"
    bad.write_bytes(classic_bytes(rows=30).replace(b",Month-to-month,", b",Forever,", 1))
    gc.collect()
    before = (tmp_path / "w.duckdb").read_bytes()
    refused = runner.invoke(cli.app, ["ingest", str(bad)])
    assert refused.exit_code == 1 and "Contract" in refused.output
    gc.collect()
    assert (tmp_path / "w.duckdb").read_bytes() == before  # nothing written
    assert _meta(tmp_path)["raw_file"] == "mine.csv"

    configured.write_bytes(classic_bytes(rows=250))  # the configured file's content changes
    rescored = runner.invoke(cli.app, ["score"])
    assert rescored.exit_code == 0, rescored.output
    assert "rebuilding customers from configured.csv" in rescored.output  # and says so
    assert "250 customers" in rescored.output
    meta = _meta(tmp_path)
    assert meta["raw_file"] == "configured.csv" and "source" not in meta and meta["n_customers"] == "250"
