"""Benchmark: the DuckDB warehouse at 1M and 10M synthetic customers.

Usage: ``.venv/bin/python benchmarks/bench_warehouse.py [--sizes 1000000 10000000]``
(``make bench`` runs it). Writes ``benchmarks/results/warehouse.json`` and prints a
Markdown summary for the README. Warehouse files go to a temporary folder (about 0.1 GB
per million customers) and are deleted afterwards.

What is measured (wall-clock seconds on this machine):
- ``load_s``: generate N synthetic customers (:func:`churn_core.data.synthetic.grow`, 500k
  rows a chunk) and load them into a fresh DuckDB file; ``file_mb`` its size.
- ``cube``: the EDA aggregate tables (:mod:`churn_core.analytics.eda_cube`, the post-build
  step): build seconds, rows per table, MB they add to the file.
- ``eda_s``: every EDA query of :mod:`churn_core.analytics.eda` for every filter set of
  :data:`EDA_FILTER_SETS` (none, month-to-month seniors, first-year fibre, five filters at once),
  the worst of ``--eda-runs`` (5) runs after one warm-up, reading the aggregate tables;
  ``eda_plain_s`` the same over ``customers`` (plain SQL: a warehouse without the tables),
  worst of ``--plain-runs`` (1); the load average before and after (the machine may be shared).
  ``--eda-only`` skips pages and scoring and keeps their last stored figures.
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "warehouse.json"
PAGES = ("Home.py", "pages/eda.py", "pages/scoring.py", "pages/revenue.py", "pages/segments.py")


#: Filter sets of the EDA timings (the page's sidebar filters; "none" is the unfiltered page).
EDA_FILTER_SETS = {
    "none": {},
    "m2m_seniors": {"contracts": ("Month-to-month",), "senior_only": True},
    "first_year_fiber": {"tenure_min": 1, "tenure_max": 12, "internet_services": ("Fiber optic",)},
    "women_echeck_offers_segment": {
        "genders": ("Female",), "payment_methods": ("Electronic check",), "offers": ("None", "Offer E"),
        "segments": (0,), "age_groups": ("30-39", "40-49", "65-69"),
    },
}  # fmt: skip
EDA_QUERIES = (
    "kpis", "churn_by_category", "numeric_histograms", "churn_by_tenure", "senior_comparison", "churn_reasons",
    "correlations", "filtered_customers", "segment_profile",
)  # fmt: skip


class PlainOnly:
    """Only ``query``: the EDA finds no aggregate tables and runs its plain SQL over ``customers``."""

    def __init__(self, wh):
        self.query = wh.query


def _worst(call, runs: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return max(times)


def eda_timings(wh, runs: int = 5) -> dict[str, dict[str, float]]:
    """Worst of ``runs`` (after one warm-up) of every EDA query for every filter set, seconds."""
    from churn_core.analytics import eda

    out: dict[str, dict[str, float]] = {}
    for name in EDA_QUERIES:
        out[name] = {}
        for fname, kwargs in EDA_FILTER_SETS.items():
            f = eda.EdaFilters(**kwargs)
            out[name][fname] = _worst(lambda name=name, f=f: getattr(eda, name)(wh, f), runs)
    return out


def eda_bench(wh, path: Path, runs: int, plain_runs: int) -> dict:
    """Build the EDA aggregate tables (as the post-build step does), time the EDA with and without them."""
    from churn_core.analytics.eda_cube import build_eda_cube, cube_for
    from churn_core.data import customers

    before_mb = path.stat().st_size / 2**20
    cube = build_eda_cube(wh)
    wh.execute("CHECKPOINT")
    assert cube_for(wh) is not None, cube
    result = {
        "load_average_before": os.getloadavg(),
        "cube": {
            "build_s": cube["seconds"], "rows": cube["rows"], "file_mb_added": path.stat().st_size / 2**20 - before_mb,
        },
        "eda_s": eda_timings(wh, runs),
        "eda_plain_s": eda_timings(PlainOnly(wh), plain_runs) if plain_runs else None,
        "runs": runs,
        "plain_runs": plain_runs,
        "customer_sample_20k_s": _worst(lambda: customers.customer_sample(wh, 20_000), runs),
        "load_average_after": os.getloadavg(),
    }  # fmt: skip
    worst = max(t for q in result["eda_s"].values() for t in q.values())
    result["eda_worst_s"] = worst
    return result


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


def bench_size(
    n: int, tmp: Path, score_chunks: int | None, eda_runs: int = 5, plain_runs: int = 1, eda_only: bool = False
) -> dict:
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
    result.update(eda_bench(wh, path, eda_runs, plain_runs))
    wh.close()
    if eda_only:
        return result
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
    rows.append(("EDA aggregate tables: build, s", lambda r: f"{r['cube']['build_s']:.1f}"))
    rows.append(("EDA aggregate tables: rows (cells / levels / hist / reasons)",
                 lambda r: " / ".join(f"{v:,}" for v in r["cube"]["rows"].values())))  # fmt: skip
    rows.append(("EDA aggregate tables: added to the file, MB", lambda r: f"{r['cube']['file_mb_added']:.1f}"))
    n_sets = len(EDA_FILTER_SETS)
    for q in results["sizes"][0]["eda_s"]:
        rows.append(
            (
                f"`eda.{q}` worst of {results['sizes'][0]['runs']} runs, no filter / worst of {n_sets} filter sets, s "
                "(plain SQL without the aggregate tables)",
                lambda r, q=q: f"{r['eda_s'][q]['none']:.3f} / {max(r['eda_s'][q].values()):.3f}"
                + (f" ({r['eda_plain_s'][q]['none']:.2f} / {max(r['eda_plain_s'][q].values()):.2f})"
                   if r.get("eda_plain_s") else ""),
            )
        )  # fmt: skip
    rows.append(
        ("`customers.customer_sample(20k)` (not an EDA query), s", lambda r: f"{r['customer_sample_20k_s']:.2f}")
    )
    rows.append(("load average (1 min) before / after the EDA timings",
                 lambda r: f"{r['load_average_before'][0]:.1f} / {r['load_average_after'][0]:.1f}"))  # fmt: skip
    if any("pages" not in r for r in results["sizes"]):
        for label, fn in rows:
            lines.append(f"| {label} | " + " | ".join(fn(r) for r in results["sizes"]) + " |")
        return "\n".join(lines)
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
    parser.add_argument("--eda-runs", type=int, default=5, help="timed runs per EDA query (the worst is reported)")
    parser.add_argument("--plain-runs", type=int, default=1, help="timed runs of the plain SQL (0: not timed)")
    parser.add_argument("--eda-only", action="store_true", help="only load and the EDA (keeps other stored figures)")
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
            sizes.append(bench_size(n, tmp, args.score_chunks, args.eda_runs, args.plain_runs, args.eda_only))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "sizes": sizes,
    }
    if args.eda_only and RESULTS.exists():  # keep the pages' and scoring figures of the last full run
        old = {r["n_customers"]: r for r in json.loads(RESULTS.read_text()).get("sizes", [])}
        new = {r["n_customers"]: {**old.get(r["n_customers"], {}), **r} for r in sizes}
        results["sizes"] = [v for _, v in sorted({**old, **new}.items())]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
