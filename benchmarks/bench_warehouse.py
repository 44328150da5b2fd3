"""Benchmark: the DuckDB warehouse at 1M and 10M synthetic customers.

Usage: ``.venv/bin/python benchmarks/bench_warehouse.py [--sizes 1000000 10000000]``
(``make bench`` runs it). Writes ``benchmarks/results/warehouse.json`` and prints a
Markdown summary for the README. Warehouse files go to a temporary folder (about 0.1 GB
per million customers) and are deleted afterwards.

What is measured (wall-clock seconds on this machine):
- ``load_s``: generate N synthetic customers (:func:`churn_core.data.synthetic.grow`, 500k
  rows a chunk) and load them into a fresh DuckDB file; ``file_mb`` its size.
- ``eda_s``: every EDA query of :mod:`churn_core.analytics.eda` with no filter and with a filter
  (month-to-month seniors), median of 3 runs after one warm-up.
- ``page_s``: one ``AppTest`` run of each page on that warehouse in a fresh process, and
  the process's peak resident memory: pages must not load the customer table.
- ``scoring``: ``churn-studio score`` in a fresh process (stream chunks of 100k from the
  warehouse, ensemble + CLV, write to ``scores``): customers/s and peak resident memory.
  ``--score-chunks K`` scores only the first K chunks above 1M customers (default: all).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "warehouse.json"
PAGES = ("Home.py", "pages/eda.py", "pages/scoring.py", "pages/revenue.py", "pages/segments.py")


def eda_timings(wh) -> dict[str, dict[str, float]]:
    from churn_core.analytics import eda
    from churn_core.data import customers

    filters = {"none": eda.EdaFilters(), "m2m_seniors": eda.EdaFilters(contracts=("Month-to-month",), senior_only=True)}
    calls = {
        "kpis": lambda f: eda.kpis(wh, f),
        "churn_by_category": lambda f: eda.churn_by_category(wh, f),
        "numeric_histograms": lambda f: eda.numeric_histograms(wh, f),
        "churn_by_tenure": lambda f: eda.churn_by_tenure(wh, f),
        "senior_comparison": lambda f: eda.senior_comparison(wh, f),
        "churn_reasons": lambda f: eda.churn_reasons(wh, f),
        "correlations": lambda f: eda.correlations(wh, f),
        "filtered_customers": lambda f: eda.filtered_customers(wh, f),
        "customer_sample_20k": lambda f: customers.customer_sample(wh, 20_000),
    }
    out: dict[str, dict[str, float]] = {}
    for name, call in calls.items():
        out[name] = {}
        for fname, f in filters.items():
            call(f)
            times = []
            for _ in range(3):
                t = time.perf_counter()
                call(f)
                times.append(time.perf_counter() - t)
            out[name][fname] = statistics.median(times)
    return out


def child_pages() -> None:
    """In a fresh process: run every page once with AppTest, print times and peak RSS."""
    from streamlit.testing.v1 import AppTest

    times = {}
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=600)
    for page in PAGES:
        t = time.perf_counter()
        (at.switch_page(page) if page != "Home.py" else at).run()
        times[page] = time.perf_counter() - t
        if at.exception:
            raise SystemExit(f"{page}: {at.exception[0].stack_trace}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"page_s": times, "peak_rss_mb": peak_mb}))


def child_score(max_chunks: int | None) -> None:
    """In a fresh process: batch-score the warehouse, print the rate and peak RSS."""
    from churn_core.config import get_settings
    from churn_core.data.loading import file_sha256
    from churn_core.prediction.batch import score_warehouse
    from churn_core.prediction.training import MODEL_FILE, load_bundle
    from churn_core.studio import open_studio_warehouse

    settings = get_settings()
    wh = open_studio_warehouse(settings)
    bundle = load_bundle(settings.models_dir)
    result = score_warehouse(
        wh, bundle.model, file_sha256(settings.models_dir / MODEL_FILE), chunk_rows=settings.score_chunk_rows,
        fit_rows=settings.max_fit_rows, max_chunks=max_chunks,
    )  # fmt: skip
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(args: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{args}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_size(n: int, tmp: Path, score_chunks: int | None) -> dict:
    from churn_core.config import RAW_CUSTOMERS_CSV
    from churn_core.data.synthetic import load_synthetic
    from churn_core.data.warehouse import DuckDBWarehouse
    from churn_core.studio import STUDIO_ENRICH

    real = DuckDBWarehouse(tmp / "real.duckdb", RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    real.ensure_built()
    customers = real.query("SELECT * FROM {customers}")
    real.close()
    path = tmp / f"w{n}.duckdb"
    wh = DuckDBWarehouse(path, RAW_CUSTOMERS_CSV)
    t0 = time.perf_counter()
    load_synthetic(wh, customers, n, seed=1)
    wh.execute("CHECKPOINT")
    load_s = time.perf_counter() - t0
    result = {"n_customers": n, "load_s": load_s, "file_mb": path.stat().st_size / 2**20}
    result["eda_s"] = eda_timings(wh)
    wh.close()
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(path)}
    result["pages"] = run_child(["--child-pages"], env)
    chunks = (score_chunks or None) if n > 1_000_000 else None
    result["scoring"] = run_child(["--child-score", str(chunks or 0)], env)
    result["scoring"]["chunks_limit"] = chunks
    return result


def markdown(results: dict) -> str:
    lines = ["| | " + " | ".join(f"{r['n_customers']:,}" for r in results["sizes"]) + " |"]
    lines.append("|---|" + "---:|" * len(results["sizes"]))
    rows = [("load (generate + insert), s", lambda r: f"{r['load_s']:.1f}")]
    rows.append(("DuckDB file, MB", lambda r: f"{r['file_mb']:.0f}"))
    for q in results["sizes"][0]["eda_s"]:
        rows.append(
            (
                f"`eda.{q}` no filter / filtered, s",
                lambda r, q=q: f"{r['eda_s'][q]['none']:.3f} / {r['eda_s'][q]['m2m_seniors']:.3f}",
            )
        )
    for page in PAGES:
        rows.append((f"AppTest `{page}`, s", lambda r, p=page: f"{r['pages']['page_s'][p]:.1f}"))
    rows.append(("peak memory, all pages, MB", lambda r: f"{r['pages']['peak_rss_mb']:.0f}"))
    rows.append(("batch scoring, customers/s", lambda r: f"{r['scoring']['customers_per_second']:,.0f}"))
    rows.append(("batch scoring rows (chunks of 100k)", lambda r: f"{r['scoring']['n_rows']:,}"))
    rows.append(("batch scoring peak memory, MB", lambda r: f"{r['scoring']['peak_rss_mb']:.0f}"))
    for label, fn in rows:
        lines.append(f"| {label} | " + " | ".join(fn(r) for r in results["sizes"]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--score-chunks", type=int, default=0, help="chunks scored above 1M customers (0: all)")
    parser.add_argument("--child-pages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-score", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_pages:
        return child_pages()
    if args.child_score is not None:
        return child_score(args.child_score or None)
    tmp = Path(tempfile.mkdtemp(prefix="bench_wh_"))
    try:
        sizes = []
        for n in args.sizes:
            print(f"{n:,} customers…", flush=True)
            sizes.append(bench_size(n, tmp, args.score_chunks))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "sizes": sizes,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
