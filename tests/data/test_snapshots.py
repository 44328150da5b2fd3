"""Dated customer snapshots (issue #14): the base snapshot, add / no-op / replace, the outcome rule,
``Warehouse.at`` on DuckDB and on the BigQuery emulator, and ``churn-studio ingest --as-of``.

Files are small extracts cut from the shipped IBM file (``tests.helpers.snapshots``); warehouses
are real DuckDB files in ``tmp_path`` (and fresh datasets of the local BigQuery emulator).
"""

from __future__ import annotations

import datetime as dt
import gc

import pytest
from typer.testing import CliRunner

from churn_core import cli
from churn_core.config import get_settings
from churn_core.data import snapshots
from churn_core.data.loading import DataValidationError
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.studio import STUDIO_ENRICH
from tests.helpers.snapshots import mark_churned, shipped_rows, write_rows
from tests.helpers.warehouses import new_bigquery_warehouse

pytestmark = pytest.mark.data
runner = CliRunner()

BASE = dt.date(2019, 9, 30)
NEXT = dt.date(2019, 10, 31)
ROWS = 120  # from data row 1840 of the shipped file: 29 churners, then 91 stayers


@pytest.fixture
def base_rows():
    return shipped_rows(ROWS, start=1840)


@pytest.fixture
def duck(tmp_path, base_rows):
    """A DuckDB warehouse built from a configured 120-customer file (registers the base snapshot)."""
    raw = write_rows(base_rows, tmp_path / "configured.csv")
    wh = DuckDBWarehouse(tmp_path / "w.duckdb", raw, enrich=STUDIO_ENRICH)
    wh.ensure_built()
    yield wh
    wh.close()


@pytest.fixture(params=["duckdb", "bigquery"])
def both(request, tmp_path, base_rows):
    """The same built warehouse on each backend (BigQuery: a fresh dataset of the emulator)."""
    raw = write_rows(base_rows, tmp_path / "configured.csv")
    if request.param == "duckdb":
        wh = DuckDBWarehouse(tmp_path / "w.duckdb", raw, enrich=STUDIO_ENRICH)
    else:
        wh = new_bigquery_warehouse(request.getfixturevalue("bq_endpoint"), raw)
    wh.ensure_built()
    yield wh
    wh.close()


def _count(wh) -> int:
    return int(wh.query("SELECT COUNT(*) AS n FROM {customers}")["n"].iloc[0])


def _bytes_after_close(wh: DuckDBWarehouse) -> bytes:
    wh.close()
    gc.collect()
    return wh.path.read_bytes()


def test_the_configured_file_is_the_base_snapshot(duck) -> None:
    listed = snapshots.list_snapshots(duck)
    assert list(listed["snapshot_date"]) == [BASE]
    row = listed.iloc[0]
    assert row["table_name"] == "customers_20190930" and row["raw_file"] == "configured.csv"
    assert int(row["n_customers"]) == ROWS and not row["is_synthetic"]
    assert row["raw_sha256"] == duck.meta()["raw_sha256"]
    assert snapshots.latest_snapshot_date(duck) == BASE
    assert duck.at(BASE) is duck and duck.at(None) is duck  # the latest is customers itself
    assert len(snapshots.snapshot_frame(duck, BASE)) == ROWS


def test_add_noop_and_replace(duck, tmp_path, base_rows) -> None:
    later = write_rows(base_rows.iloc[10:], tmp_path / "october.csv")  # 10 customers gone
    added = snapshots.ingest_snapshot(duck, later, NEXT)
    assert added.status == "added" and added.n_customers == ROWS - 10
    assert "10 removed" in added.changes
    assert snapshots.snapshot_dates(duck) == [BASE, NEXT]  # the earlier snapshot is kept
    assert _count(duck) == ROWS - 10 and _count(duck.at(BASE)) == ROWS
    assert duck.meta()["snapshot_date"] == NEXT.isoformat()

    before = _bytes_after_close(duck)
    again = snapshots.ingest_snapshot(duck, later, NEXT)  # same bytes, same date
    assert again.status == "unchanged" and "already the snapshot" in again.changes
    assert _bytes_after_close(duck) == before  # nothing written

    other = base_rows.iloc[5:].copy()  # 5 customers back, one charge changed
    other.loc[other.index[-1], "MonthlyCharges"] = "99.99"
    other_path = write_rows(other, tmp_path / "october_v2.csv")
    with pytest.raises(snapshots.SnapshotExistsError) as refused:
        snapshots.ingest_snapshot(duck, other_path, NEXT)
    assert refused.value.changes == {"added": 5, "removed": 0, "changed": 1, "unchanged": ROWS - 11}
    assert "5 customers added" in str(refused.value) and "--replace" in str(refused.value)
    assert _bytes_after_close(duck) == before  # the refusal wrote nothing

    replaced = snapshots.ingest_snapshot(duck, other_path, NEXT, replace=True)
    assert replaced.status == "replaced" and replaced.n_customers == ROWS - 5
    assert "5 customers added, 0 removed, 1 changed" in replaced.changes
    assert _count(duck) == ROWS - 5
    assert snapshots.list_snapshots(duck)["raw_file"].tolist() == ["configured.csv", "october_v2.csv"]


def test_an_invalid_file_is_refused_and_writes_nothing(duck, tmp_path, base_rows) -> None:
    bad = base_rows.copy()
    bad.loc[3, "Contract"] = "Forever"
    path = write_rows(bad, tmp_path / "bad.csv")
    before = _bytes_after_close(duck)
    with pytest.raises(DataValidationError, match="Contract"):
        snapshots.ingest_snapshot(duck, path, NEXT)
    assert _bytes_after_close(duck) == before
    assert snapshots.snapshot_dates(duck) == [BASE]


def test_outcome_rule(duck, tmp_path, base_rows) -> None:
    already = base_rows["customerID"].iloc[0]  # a churner at the base snapshot
    stayers = base_rows.loc[base_rows["Churn"] == "No", "customerID"].tolist()
    absent, churns, stays, synthetic = stayers[0], stayers[1], stayers[2], stayers[3]
    later = mark_churned(base_rows[base_rows["customerID"] != absent], [churns])
    later.loc[later["customerID"] == synthetic, "customerID"] = f"SYN-{synthetic}"  # same lineage
    result = snapshots.ingest_snapshot(duck, write_rows(later, tmp_path / "l.csv"), NEXT)
    outcomes = duck.query("SELECT * FROM {outcomes}").set_index("customer_id")
    assert result.n_outcomes == len(stayers) == len(outcomes)  # active customers of the base only
    assert already not in outcomes.index
    assert bool(outcomes.loc[absent, "churned"]) and bool(outcomes.loc[churns, "churned"])
    assert not outcomes.loc[stays, "churned"] and not outcomes.loc[synthetic, "churned"]
    assert int(outcomes["churned"].sum()) == 2
    assert set(outcomes["observed_date"].map(snapshots._as_date)) == {NEXT}
    assert set(outcomes["rule"]) == {snapshots.OUTCOME_RULE}
    assert snapshots.record_outcomes(duck, BASE, NEXT) == len(stayers)  # recomputed, not duplicated
    assert int(duck.query("SELECT COUNT(*) AS n FROM {outcomes}")["n"].iloc[0]) == len(stayers)


def test_lineage_id() -> None:
    assert snapshots.lineage_id("SYN-7590-VHVEG") == "7590-VHVEG"
    assert snapshots.lineage_id("SYN-SYN-7590-VHVEG") == "7590-VHVEG"
    assert snapshots.lineage_id("7590-VHVEG") == "7590-VHVEG"


def test_a_backfilled_snapshot_does_not_become_customers(duck, tmp_path, base_rows) -> None:
    snapshots.ingest_snapshot(duck, write_rows(base_rows.iloc[20:], tmp_path / "nov.csv"), dt.date(2019, 11, 30))
    mid = snapshots.ingest_snapshot(duck, write_rows(base_rows.iloc[10:], tmp_path / "oct.csv"), NEXT)
    assert not mid.is_latest and _count(duck) == ROWS - 20
    assert _count(duck.at(NEXT)) == ROWS - 10
    counts = duck.query("SELECT snapshot_date, COUNT(*) AS n FROM {outcomes} GROUP BY snapshot_date")
    assert len(counts) == 2  # base -> October and October -> November


def test_at_on_both_backends(both, tmp_path, base_rows) -> None:
    later = write_rows(base_rows.iloc[30:], tmp_path / "october.csv")
    snapshots.ingest_snapshot(both, later, NEXT)
    old = both.at(BASE)
    assert old.table("customers") == both.table("customers_20190930")
    assert _count(both) == ROWS - 30 and _count(old) == ROWS
    assert old.schema("customers") == both.schema("customers_20190930")
    assert old.table("scores") == both.table("scores")  # other tables are shared
    assert both.at(NEXT) is both
    with pytest.raises(KeyError, match="2019-12-31"):
        both.at(dt.date(2019, 12, 31))
    outcomes = both.query("SELECT COUNT(*) AS n, COUNTIF(churned) AS k FROM {outcomes}").iloc[0]
    assert int(outcomes["n"]) == int((base_rows["Churn"] == "No").sum())
    assert int(outcomes["k"]) == int((base_rows.iloc[:30]["Churn"] == "No").sum())  # the absent stayers


@pytest.fixture
def configured_env(monkeypatch, tmp_path, base_rows):
    raw = write_rows(base_rows, tmp_path / "configured.csv")
    monkeypatch.setenv("CHURN_RAW_CUSTOMERS_CSV", str(raw))
    monkeypatch.setenv("CHURN_WAREHOUSE_PATH", str(tmp_path / "cli.duckdb"))
    get_settings.cache_clear()
    wh = DuckDBWarehouse(tmp_path / "cli.duckdb", raw, enrich=STUDIO_ENRICH)
    wh.ensure_built()
    wh.close()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_ingest_as_of(configured_env, base_rows) -> None:
    path = write_rows(base_rows.iloc[10:], configured_env / "october.csv")
    first = runner.invoke(cli.app, ["ingest", str(path), "--as-of", "2019-10-31"])
    assert first.exit_code == 0, first.output
    assert "added snapshot 2019-10-31" in first.output and "10 removed" in first.output
    again = runner.invoke(cli.app, ["ingest", str(path), "--as-of", "2019-10-31"])
    assert again.exit_code == 0 and "unchanged" in again.output, again.output
    other = write_rows(base_rows.iloc[5:], configured_env / "october_v2.csv")
    refused = runner.invoke(cli.app, ["ingest", str(other), "--as-of", "2019-10-31"])
    assert refused.exit_code == 1 and "--replace" in refused.output and "5 customers added" in refused.output
    listed = runner.invoke(cli.app, ["snapshot", "list"])
    assert "2019-09-30" in listed.output and "2019-10-31" in listed.output and "october.csv" in listed.output
    bad_date = runner.invoke(cli.app, ["ingest", str(path), "--as-of", "31/10/2019"])
    assert bad_date.exit_code != 0
