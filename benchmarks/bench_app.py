"""Benchmark: warehouse build, Home cold start, EDA filter change (AppTest) and SQL times.

Usage: ``make bench`` (or ``.venv/bin/python benchmarks/bench_app.py [--repeats N]``).
Writes ``benchmarks/results/app.json`` and prints a Markdown summary for the README.

What is measured (wall-clock seconds on this machine, medians over repeats):
- ``warehouse_build_s``: validate the raw CSV and build a fresh DuckDB file.
- ``home_cold_start_s``: first ``AppTest`` run of ``Home.py`` in a fresh Python process
  (imports, warehouse connection, first queries; warehouse already built).
- ``eda_first_render_s``: first render of the EDA page after Home in that process.
- ``eda_filter_change_s``: one rerun of the EDA page after a filter change to a selection
  never seen before (every query misses the cache), median and p90 over the changes.
- ``eda_filter_change_cached_s``: the same reruns a second time (query cache hits).
- ``eda_filter_change_by_tab_s``: one uncached filter change with each tab open.
- ``sql_s``: each EDA query run directly on the warehouse, no cache.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "app.json"

FILTER_CHANGES = [
    ("f_contracts", ["Month-to-month"]),
    ("f_internet_services", ["Fiber optic"]),
    ("f_payment_methods", ["Electronic check", "Mailed check"]),
    ("f_genders", ["Female"]),
    ("f_offers", ["None", "Offer E"]),
    ("f_age_groups", ["65-69", "70-79", "80+"]),
    ("f_contracts", ["One year"]),
    ("f_internet_services", ["DSL"]),
]


TABS = ("features", "distributions", "tenure_age", "seniors", "reasons", "correlation", "table")


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def app_timings() -> dict:
    """Run in a fresh process: cold start, EDA render and filter changes through AppTest."""
    from streamlit.testing.v1 import AppTest

    t0 = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=300).run()
    home_cold = time.perf_counter() - t0
    assert not at.exception, at.exception
    t0 = time.perf_counter()
    at.switch_page("pages/eda.py").run()
    eda_first = time.perf_counter() - t0
    assert not at.exception, at.exception

    def changes() -> list[float]:
        times = []
        for key, value in FILTER_CHANGES:
            at.multiselect(key=key).set_value(value)
            t = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t)
            assert not at.exception, at.exception
            at.multiselect(key=key).set_value([]).run()  # back to all (cached after round 1)
        return times

    cold_changes = changes()
    warm_changes = changes()

    from churn_core.i18n import t

    per_tab = {}
    for i, name in enumerate(TABS):
        at.session_state["eda_tab"] = t(f"eda.tab_{name}", "ko")
        at.run()
        at.slider(key="f_tenure").set_value((i + 1, 60))  # a selection not seen before
        start = time.perf_counter()
        at.run()
        per_tab[name] = time.perf_counter() - start
        assert not at.exception, at.exception
    return {
        "eda_filter_change_by_tab_s": per_tab,
        "home_cold_start_s": home_cold,
        "eda_first_render_s": eda_first,
        "eda_filter_change_s": {
            "median": statistics.median(cold_changes),
            "p90": _p(cold_changes, 0.9),
            "runs": cold_changes,
        },
        "eda_filter_change_cached_s": {
            "median": statistics.median(warm_changes),
            "p90": _p(warm_changes, 0.9),
        },
    }


def sql_timings(repeats: int) -> tuple[float, dict]:
    from churn_core.analytics import eda
    from churn_core.config import get_settings
    from churn_core.data.warehouse import DuckDBWarehouse
    from churn_core.studio import STUDIO_ENRICH

    settings = get_settings()
    wh = DuckDBWarehouse(settings.warehouse_path, settings.raw_customers_csv, enrich=STUDIO_ENRICH)
    t0 = time.perf_counter()
    wh.build()
    build = time.perf_counter() - t0
    f = eda.EdaFilters(contracts=("Month-to-month",), senior_only=True)
    out = {}
    for name in ("kpis", "churn_by_category", "numeric_histograms", "churn_by_tenure",
                 "senior_comparison", "churn_reasons", "correlations", "filtered_customers"):  # fmt: skip
        fn = getattr(eda, name)
        fn(wh, f)  # warm-up: SQL translation is cached per query text
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn(wh, f)
            times.append(time.perf_counter() - t)
        out[name] = statistics.median(times)
    wh.close()
    return build, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="cold-start processes and SQL repeats")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(app_timings()))
        return

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CHURN_WAREHOUSE_PATH"] = str(Path(tmp) / "bench.duckdb")
        build, sql = sql_timings(max(5, args.repeats))
        runs = []
        for _ in range(args.repeats):
            proc = subprocess.run(
                [sys.executable, __file__, "--child"], capture_output=True, text=True, check=True, cwd=ROOT
            )
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "date": time.strftime("%Y-%m-%d"),
        "warehouse_build_s": build,
        "home_cold_start_s": statistics.median(r["home_cold_start_s"] for r in runs),
        "eda_first_render_s": statistics.median(r["eda_first_render_s"] for r in runs),
        "eda_filter_change_s": {
            "median": statistics.median(r["eda_filter_change_s"]["median"] for r in runs),
            "p90": statistics.median(r["eda_filter_change_s"]["p90"] for r in runs),
        },
        "eda_filter_change_cached_s": {
            "median": statistics.median(r["eda_filter_change_cached_s"]["median"] for r in runs),
        },
        "eda_filter_change_by_tab_s": {
            tab: statistics.median(r["eda_filter_change_by_tab_s"][tab] for r in runs) for tab in TABS
        },
        "sql_s": sql,
        "sql_total_s": sum(sql.values()),
        "target_filter_change_s": 0.3,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    ms = lambda s: f"{1000 * s:.0f} ms"  # noqa: E731
    print("| measure | result |\n|---|---|")
    print(f"| warehouse build (7,043 rows) | {ms(build)} |")
    print(f"| Home cold start (AppTest, fresh process) | {ms(result['home_cold_start_s'])} |")
    print(f"| EDA first render | {ms(result['eda_first_render_s'])} |")
    fc = result["eda_filter_change_s"]
    print(f"| EDA filter change, uncached (median / p90) | {ms(fc['median'])} / {ms(fc['p90'])} |")
    print(f"| EDA filter change, cached (median) | {ms(result['eda_filter_change_cached_s']['median'])} |")
    for tab, secs in result["eda_filter_change_by_tab_s"].items():
        print(f"| EDA filter change, uncached, tab `{tab}` | {ms(secs)} |")
    print(f"| all EDA SQL queries, one filter (sum of medians) | {ms(result['sql_total_s'])} |")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
