"""Estimate: bytes each EDA query would bill on BigQuery at 10M customers, and its cost.

Usage: ``.venv/bin/python benchmarks/bench_bigquery_cost.py [--customers 10000000]``.
Writes ``benchmarks/results/bigquery_cost.json`` and prints a Markdown table.

BigQuery bills on-demand queries by the logical bytes of the columns they read (whole
columns: a WHERE clause does not reduce it), at least 10 MB per table per query. The
local emulator reports 0 bytes, so this script records the SQL each EDA function sends
(through a recording wrapper around the DuckDB warehouse), finds the columns every
statement reads with sqlglot, and multiplies by BigQuery's logical sizes (INT64 and
FLOAT64 8 bytes, BOOL 1, STRING 2 + UTF-8 length, averaged over the real 7,043 rows).
Price assumption: USD 6.25 per TiB (on-demand, US multi-region; check your region).
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

    def __init__(self, wh):
        self.wh, self.sql = wh, []

    def query(self, sql, params=None):
        self.sql.append(self.wh.render(sql))
        return self.wh.query(sql, params)


def column_bytes(wh) -> dict[str, float]:
    import pandas as pd

    df = wh.query("SELECT * FROM {customers}")
    sizes = {}
    for col, kind in wh.schema("customers").items():
        if kind in ("INT64", "FLOAT64", "TIMESTAMP"):
            sizes[col] = 8.0
        elif kind == "BOOL":
            sizes[col] = 1.0
        else:
            sizes[col] = 2.0 + df[col].astype(str).map(lambda v: len(v.encode("utf-8"))).mean()
    assert isinstance(df, pd.DataFrame)
    return sizes


def main() -> None:
    import sqlglot
    from sqlglot import exp

    from churn_core.analytics import eda
    from churn_core.config import RAW_CUSTOMERS_CSV
    from churn_core.data.warehouse import DuckDBWarehouse
    from churn_core.studio import STUDIO_ENRICH

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    wh = DuckDBWarehouse(tmp / "w.duckdb", RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    wh.ensure_built()
    sizes = column_bytes(wh)
    names = ("kpis", "churn_by_category", "numeric_histograms", "churn_by_tenure", "senior_comparison",
             "churn_reasons", "correlations", "filtered_customers", "segment_profile")  # fmt: skip
    out = {}
    for name in names:
        rec = Recording(wh)
        getattr(eda, name)(rec, eda.EdaFilters())
        billed = 0.0
        for sql in rec.sql:
            tree = sqlglot.parse_one(sql, read="bigquery")
            select_star = any(isinstance(e, exp.Star) for s in tree.find_all(exp.Select) for e in s.expressions)
            # SELECT * reads every column (COUNT(*) reads none)
            cols = set(sizes) if select_star else {c.name for c in tree.find_all(exp.Column) if c.name in sizes}
            billed += max(MIN_BYTES, sum(sizes[c] for c in cols) * args.customers)
        out[name] = {"statements": len(rec.sql), "bytes": billed, "usd": billed / 2**40 * USD_PER_TIB}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"customers": args.customers, "usd_per_tib": USD_PER_TIB, "queries": out}, indent=2))
    print(f"| EDA query ({args.customers:,} customers) | statements | GB billed | USD |\n|---|---:|---:|---:|")
    for name, r in out.items():
        print(f"| `{name}` | {r['statements']} | {r['bytes'] / 1e9:.2f} | {r['usd']:.4f} |")
    total_usd, total_gb = sum(r["usd"] for r in out.values()), sum(r["bytes"] for r in out.values()) / 1e9
    print(f"| **all, one page view with every tab** | | {total_gb:.1f} | {total_usd:.3f} |")


if __name__ == "__main__":
    main()
