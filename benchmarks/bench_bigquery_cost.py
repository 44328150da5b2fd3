"""Estimate: bytes each EDA query would bill on BigQuery at 10M customers, and its cost.

Usage: ``.venv/bin/python benchmarks/bench_bigquery_cost.py [--customers 10000000]``.
Writes ``benchmarks/results/bigquery_cost.json`` and prints a Markdown table.

BigQuery bills on-demand queries by the logical bytes of the columns they read (whole
columns: a WHERE clause does not reduce it), at least 10 MB per table per query. The
local emulator reports 0 bytes, so this script records the SQL each EDA function sends
(through a recording wrapper around the DuckDB warehouse), finds the tables and columns every
statement reads with sqlglot, and multiplies by BigQuery's logical sizes (INT64 and
FLOAT64 8 bytes, BOOL 1, STRING 2 + UTF-8 length, averaged over the rows of each table).
Price assumption: USD 6.25 per TiB (on-demand, US multi-region; check your region).

Two columns: ``plain`` (the EDA over ``customers``: a warehouse without the aggregate tables,
as before #17) and ``cube`` (the EDA reading :mod:`churn_core.analytics.eda_cube`'s tables).
``customers`` has ``--customers`` rows; the aggregate tables have the row counts measured at
that size by ``bench_warehouse.py`` (``benchmarks/results/warehouse.json``, synthetic customers
bootstrapped from the real ones), else a dense upper bound: their rows on the real data scaled
by how many more cells there can be (every combination of the filter columns' values: 756,864
with tenure, 10,368 summed over tenure), never more than the customers allow.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "bigquery_cost.json"
USD_PER_TIB = 6.25
MIN_BYTES = 10 * 2**20


class Recording:
    """Delegates to a warehouse and keeps the rendered SQL of every query."""

    def __init__(self, wh, plain: bool = False):
        self.wh, self.sql, self.plain = wh, [], plain

    def __getattr__(self, name):
        if self.plain:  # no render / table: the EDA finds no aggregate tables and reads customers
            raise AttributeError(name)
        return getattr(self.wh, name)

    def query(self, sql, params=None):
        self.sql.append(self.wh.render(sql))
        return self.wh.query(sql, params)


def column_bytes(wh, table: str) -> dict[str, float]:
    df = wh.query(f"SELECT * FROM {table}")
    sizes = {}
    for col, kind in wh.schema(table).items():
        if kind in ("INT64", "FLOAT64", "TIMESTAMP"):
            sizes[col] = 8.0
        elif kind == "BOOL":
            sizes[col] = 1.0
        else:
            sizes[col] = 2.0 + (df[col].astype(str).map(lambda v: len(v.encode("utf-8"))).mean() if len(df) else 0.0)
    return sizes


def billed_bytes(sql: str, sizes: dict[str, dict[str, float]], rows: dict[str, float]) -> float:
    """Bytes one statement bills: per table read, the sizes of its columns it names (all for ``*``) × rows."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="bigquery")
    names = {c.name for c in tree.find_all(exp.Column)}
    star = any(isinstance(e, exp.Star) for sel in tree.find_all(exp.Select) for e in sel.expressions)
    total = 0.0
    for table in {t.name for t in tree.find_all(exp.Table)}:
        cols = sizes.get(table, {})
        read = cols if star else {c: v for c, v in cols.items() if c in names}
        total += max(MIN_BYTES, sum(read.values()) * rows.get(table, 0.0))
    return total


def main() -> None:
    import numpy as np

    from churn_core.analytics import eda
    from churn_core.analytics.eda_cube import ALL_TENURE, CELLS, FILTER_DIMS, META, build_eda_cube
    from churn_core.config import RAW_CUSTOMERS_CSV
    from churn_core.data.warehouse import DuckDBWarehouse
    from churn_core.studio import STUDIO_ENRICH

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    wh = DuckDBWarehouse(tmp / "w.duckdb", RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    wh.ensure_built()
    real = int(wh.query("SELECT COUNT(*) AS n FROM {customers}").iloc[0]["n"])
    cube_rows = build_eda_cube(wh)["rows"]
    measured = {}
    bench = ROOT / "benchmarks" / "results" / "warehouse.json"
    if bench.exists():
        for r in json.loads(bench.read_text()).get("sizes", []):
            if r.get("n_customers") == args.customers and "cube" in r:
                measured = r["cube"]["rows"]
    rows = {"customers": float(args.customers), "_meta": 10.0, META: 20.0}
    # without a measurement: every possible cell filled (all combinations of the filter columns' values;
    # is_senior follows from age_group), each table growing like its cells, never past the customers
    dims = [d for d in FILTER_DIMS if d in wh.schema("customers") and d != "is_senior"]
    distinct = wh.query("SELECT " + ", ".join(f"COUNT(DISTINCT {d}) AS {d}" for d in dims) + " FROM {customers}")
    dense = {"": float(np.prod([float(distinct.iloc[0][d]) for d in dims]))}
    dense[ALL_TENURE] = dense[""] / float(distinct.iloc[0]["tenure"])
    real_cells = {"": cube_rows[CELLS], ALL_TENURE: cube_rows.get(CELLS + ALL_TENURE, cube_rows[CELLS])}
    for table, n in cube_rows.items():
        kind = ALL_TENURE if table.endswith(ALL_TENURE) else ""
        growth = min(args.customers / real, dense[kind] / real_cells[kind])
        rows[table] = float(measured.get(table, min(n * growth, args.customers * 20.0)))
    sizes = {t: column_bytes(wh, t) for t in ("customers", *cube_rows, "_meta", META)}
    names = ("kpis", "churn_by_category", "numeric_histograms", "churn_by_tenure", "senior_comparison",
             "churn_reasons", "correlations", "filtered_customers", "segment_profile")  # fmt: skip
    out = {}
    for name in names:
        out[name] = {}
        for kind in ("plain", "cube"):
            rec = Recording(wh, plain=kind == "plain")
            getattr(eda, name)(rec, eda.EdaFilters())
            billed = sum(billed_bytes(sql, sizes, rows) for sql in rec.sql)
            out[name][kind] = {"statements": len(rec.sql), "bytes": billed, "usd": billed / 2**40 * USD_PER_TIB}
    totals = {k: sum(r[k]["bytes"] for r in out.values()) for k in ("plain", "cube")}
    result = {
        "customers": args.customers, "usd_per_tib": USD_PER_TIB, "cube_rows": {t: rows[t] for t in cube_rows},
        "cube_rows_source": {t: "bench_warehouse.py" if t in measured else "dense upper bound" for t in cube_rows},
        "queries": out, "total_bytes": totals, "ratio_cube_to_plain": totals["cube"] / totals["plain"],
    }  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"| EDA query ({args.customers:,} customers) | GB billed, plain SQL | GB billed, aggregate tables |")
    print("|---|---:|---:|")
    for name, r in out.items():
        print(f"| `{name}` | {r['plain']['bytes'] / 1e9:.2f} | {r['cube']['bytes'] / 1e9:.2f} |")
    usd = {k: sum(r[k]["usd"] for r in out.values()) for k in ("plain", "cube")}
    print(
        f"| **one view of every tab** | **{totals['plain'] / 1e9:.1f}** (USD {usd['plain']:.3f}) | "
        f"**{totals['cube'] / 1e9:.1f}** (USD {usd['cube']:.3f}) |"
    )


if __name__ == "__main__":
    main()
