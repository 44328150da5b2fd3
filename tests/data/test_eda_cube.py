"""The EDA's aggregate tables give exactly the plain SQL's numbers, and are never used when stale.

Every EDA query runs twice on the same warehouse (DuckDB and the BigQuery emulator): through
the aggregate tables (:mod:`churn_core.analytics.eda_cube`) and through the plain SQL over
``customers`` (a wrapper that hides the warehouse's tables from :func:`cube_for`). Counts
must be equal, floats within 1e-9 (relative for sums and means, absolute for correlations).
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

import numpy as np
import pandas as pd
import pytest

from churn_core.analytics import eda
from churn_core.analytics.eda import EdaFilters
from churn_core.analytics.eda_cube import CELLS, META, build_eda_cube, cube_for, drop_eda_cube
from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.warehouse import DuckDBWarehouse, SnapshotView
from churn_core.studio import STUDIO_AFTER_BUILD, STUDIO_ENRICH, open_studio_warehouse
from tests.helpers.reference import reference_filter
from tests.helpers.warehouses import new_bigquery_warehouse

pytestmark = pytest.mark.data

FILTERS = {
    "everyone": EdaFilters(),
    "m2m_seniors": EdaFilters(contracts=("Month-to-month",), senior_only=True),
    "fiber_echeck_women": EdaFilters(
        internet_services=("Fiber optic",), payment_methods=("Electronic check",), genders=("Female",)
    ),
    "first_year": EdaFilters(tenure_min=1, tenure_max=12),
    "tenure_constant": EdaFilters(tenure_min=5, tenure_max=5),
    "age_offer_segment": EdaFilters(age_groups=("65-69", "80+"), offers=("None", "Offer E"), segments=(0, 2)),
    "everything": EdaFilters(
        age_groups=("30-39", "40-49", "50-59"),
        genders=("Male",),
        contracts=("One year", "Two year"),
        internet_services=("DSL", "No"),
        payment_methods=("Bank transfer (automatic)", "Mailed check"),
        offers=("None", "Offer B"),
        segments=(1,),
        tenure_min=10,
        tenure_max=60,
    ),
    "empty": EdaFilters(senior_only=True, age_groups=("<30",)),
}
QUERIES = (
    "kpis", "churn_by_category", "numeric_histograms", "churn_by_tenure", "senior_comparison", "churn_reasons",
    "correlations", "segment_profile",
)  # fmt: skip


class Recording:
    """Delegates to a warehouse and keeps every SQL text it is asked to run."""

    def __init__(self, wh: Any):
        self._wh, self.sql = wh, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wh, name)

    def query(self, sql: str, params: Any = None) -> pd.DataFrame:
        self.sql.append(sql)
        return self._wh.query(sql, params)


class PlainOnly:
    """Only ``query``: :func:`cube_for` finds no cube, so the EDA runs its plain SQL over ``customers``."""

    def __init__(self, wh: Any):
        self.query = wh.query


@pytest.fixture(scope="module", params=["duckdb", "bigquery"])
def cubed(request, tmp_path_factory):
    """A warehouse whose build runs the cube's post-build step (the hook the studio registers)."""
    tmp = tmp_path_factory.mktemp("cube")
    raw = tmp / "raw.csv"
    shutil.copy(RAW_CUSTOMERS_CSV, raw)
    if request.param == "duckdb":
        wh = DuckDBWarehouse(tmp / "w.duckdb", raw, enrich=STUDIO_ENRICH)
    else:
        wh = new_bigquery_warehouse(request.getfixturevalue("bq_endpoint"), raw)
    wh.after_build = (build_eda_cube,)
    wh.ensure_built()
    yield wh
    wh.close()


def _call(name: str, wh: Any, f: EdaFilters) -> Any:
    return getattr(eda, name)(wh, f)


def _same(got: Any, want: Any, what: str, corr: bool = False) -> None:
    if isinstance(got, tuple):
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{what}[{i}]")
        return
    if isinstance(got, dict):
        assert got.keys() == want.keys(), what
        for k in got:
            _same_value(got[k], want[k], f"{what}.{k}")
        return
    assert list(got.columns) == list(want.columns), what
    if corr:  # a symmetric matrix: same index, values within 1e-9 (absolute)
        assert list(got.index) == list(want.index), what
        assert np.allclose(got.to_numpy(float), want.to_numpy(float), rtol=0, atol=1e-9, equal_nan=True), what
        return
    assert len(got) == len(want), what
    keys = [c for c in got.columns if got[c].dtype == object or c in ("bin", "churn_flag", "is_senior", "tenure")]
    keys = keys or list(got.columns[:1])
    g = got.sort_values(keys).reset_index(drop=True)
    w = want.sort_values(keys).reset_index(drop=True)
    for col in got.columns:
        for a, b in zip(g[col].tolist(), w[col].tolist(), strict=True):
            _same_value(a, b, f"{what}.{col}")


def _same_value(a: Any, b: Any, what: str) -> None:
    if isinstance(a, float | np.floating) or isinstance(b, float | np.floating):
        a, b = float(a), float(b)
        if np.isnan(a) or np.isnan(b):
            assert np.isnan(a) and np.isnan(b), what
        elif float(a).is_integer() and float(b).is_integer() and abs(a) < 2**53 and "rate" not in what:
            assert a == b or np.isclose(a, b, rtol=1e-9, atol=0), (what, a, b)
        else:
            assert np.isclose(a, b, rtol=1e-9, atol=1e-12), (what, a, b)
    else:
        assert a == b, (what, a, b)


@pytest.mark.parametrize("fname", list(FILTERS))
@pytest.mark.parametrize("name", QUERIES)
def test_cube_gives_the_plain_sql_numbers(cubed, name: str, fname: str) -> None:
    f = FILTERS[fname]
    rec = Recording(cubed)
    got = _call(name, rec, f)
    assert any(t in sql for sql in rec.sql for t in ("eda_cube_",)), "the query did not read the aggregate tables"
    assert not any("{customers}" in sql for sql in rec.sql), "the query still scanned customers"
    want = _call(name, PlainOnly(cubed), f)
    _same(got, want, f"{name}/{fname}", corr=name == "correlations")


def test_cube_counts_equal_pandas_on_the_real_data(cubed, warehouse_table) -> None:
    """Independent of both SQL paths: per-level counts of the cube against pandas."""
    for f in FILTERS.values():
        sub = reference_filter(warehouse_table, f)
        by_cat = eda.churn_by_category(cubed, f)
        for feature in ("contract", "online_security", "n_services", "tenure_band", "is_senior"):
            col = sub[feature].astype(str).str.lower() if feature == "is_senior" else sub[feature].astype(str)
            expected = sub.groupby(col)["churn_flag"].agg(["size", "sum"])
            rows = by_cat[by_cat["feature"] == feature].set_index("level")
            assert rows["n"].to_dict() == expected["size"].to_dict(), feature
            assert rows["churned"].to_dict() == expected["sum"].to_dict(), feature
        assert eda.kpis(cubed, f)["customers"] == len(sub)


def test_segment_ids_from_the_cube(cubed) -> None:
    rec = Recording(cubed)
    assert eda.segment_ids(rec) == eda.segment_ids(PlainOnly(cubed)) == [0, 1, 2]
    assert any("eda_cube_cells" in sql for sql in rec.sql)


def test_the_build_hook_is_registered() -> None:
    assert build_eda_cube in STUDIO_AFTER_BUILD
    wh = open_studio_warehouse()
    assert build_eda_cube in wh.after_build


def test_a_warehouse_without_the_cube_runs_plain_sql(warehouse, tmp_path) -> None:
    """A warehouse built without the post-build steps (as before this change) runs plain SQL.

    On DuckDB a warehouse of its own: the app's tests open the session file with the studio's
    post-build steps, which may have added the cube to it by now.
    """
    if isinstance(warehouse, DuckDBWarehouse):
        warehouse = DuckDBWarehouse(tmp_path / "plain.duckdb", RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
        warehouse.ensure_built()
    assert cube_for(warehouse) is None
    rec = Recording(warehouse)
    for name in QUERIES:
        _call(name, rec, FILTERS["m2m_seniors"])
    data_tables = ("eda_cube_cells", "eda_cube_levels", "eda_cube_hist", "eda_cube_reasons")
    assert rec.sql and not any(t in sql for sql in rec.sql for t in data_tables)
    assert eda.kpis(warehouse)["customers"] == 7043


def _subset_build(wh: DuckDBWarehouse, n: int) -> None:
    """Rebuild ``customers`` with its first ``n`` rows, without the post-build steps."""
    rows = wh.query("SELECT * FROM {customers} ORDER BY customer_id LIMIT @n", {"n": n})
    wh.build(customers=rows)


def test_a_stale_cube_is_never_used(tmp_path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb", RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    wh.after_build = (build_eda_cube,)
    wh.ensure_built()
    assert cube_for(wh) is not None and eda.kpis(wh)["customers"] == 7043
    wh.after_build = ()
    _subset_build(wh, 1000)  # customers rebuilt, the cube left from the previous build
    assert wh.table_exists(CELLS) and cube_for(wh) is None
    assert eda.kpis(wh)["customers"] == 1000
    assert eda.churn_by_tenure(wh)["n"].sum() == 1000
    build_eda_cube(wh)  # what the hook does after a build: fresh again, on the new rows
    assert cube_for(wh) is not None
    assert eda.kpis(wh)["customers"] == 1000
    _same(eda.churn_by_category(wh), eda.churn_by_category(PlainOnly(wh)), "rebuilt")
    drop_eda_cube(wh)
    assert not wh.table_exists(META) and cube_for(wh) is None and eda.kpis(wh)["customers"] == 1000
    wh.close()


def test_an_older_snapshot_view_reads_its_own_table(tmp_path) -> None:
    """``Warehouse.at(d)`` of an older snapshot shares ``_meta`` (so the cube's build keys), not ``customers``."""
    wh = DuckDBWarehouse(tmp_path / "w.duckdb", RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    wh.after_build = (build_eda_cube,)
    wh.ensure_built()
    wh.execute("CREATE TABLE customers_20180101 AS SELECT * FROM customers WHERE tenure < 12")
    older = int(wh.query("SELECT COUNT(*) AS n FROM customers_20180101").iloc[0]["n"])
    view = SnapshotView(wh, dt.date(2018, 1, 1), "customers_20180101")  # what wh.at(d) returns
    assert cube_for(wh) is not None and cube_for(view) is None
    assert eda.kpis(view)["customers"] == older < eda.kpis(wh)["customers"] == 7043
    assert eda.churn_by_tenure(view)["tenure"].max() == 11
    assert eda.churn_by_category(view, features=("contract",))["n"].sum() == older
    wh.close()


@pytest.mark.parametrize(
    ("fname", "rollup"), [("everyone", True), ("m2m_seniors", True), ("first_year", False), ("tenure_constant", False)]
)
def test_an_open_tenure_range_reads_the_rollup_over_tenure(cubed, fname: str, rollup: bool) -> None:
    rec = Recording(cubed)
    eda.churn_by_category(rec, FILTERS[fname])
    eda.kpis(rec, FILTERS[fname])
    data = [sql for sql in rec.sql if "eda_cube_levels" in sql or "eda_cube_cells" in sql]
    assert len(data) == 2 and all(("_all_tenure" in sql) == rollup for sql in data)
    rec = Recording(cubed)
    eda.churn_by_tenure(rec, FILTERS[fname])  # by tenure: always the cells with tenure
    assert not any("_all_tenure" in sql for sql in rec.sql)
