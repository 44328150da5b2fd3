"""Benchmark: first load of every page, Home's cold start and the app's peak memory at N customers.

Usage: ``.venv/bin/python benchmarks/bench_pages.py [--sizes 10000000] [--repeats 3]``
(``make bench`` runs it). Writes ``benchmarks/results/pages.json`` and prints a Markdown table.

The warehouse is made like ``benchmarks/bench_warehouse.py`` makes it: N synthetic customers
(:func:`churn_core.data.synthetic.load_synthetic`, bootstrapped from the real file), then the
studio's after-build steps (:data:`churn_core.studio.STUDIO_AFTER_BUILD`: precomputed page
analytics, aggregate tables) as a build runs them; ``after_build_s`` is their time.

What is measured, each in a fresh Python process (``AppTest``, wall-clock seconds; medians over
``--repeats`` processes):

- ``home_cold_start_s``: the first run of ``Home.py`` (imports, warehouse connection, queries).
- ``first_load_s[page]``: after Home and signing in (a role allowed to open the page), the
  page's first run in that process: what a user waits for when first opening it.
- ``peak_rss_mb``: peak resident memory of one process that opens every page in turn (the app
  process serving them all), and ``peak_rss_mb_by_page`` of the per-page processes.
- ``load_average``: the machine's 1/5/15-minute load averages at the start and end (it is shared).

Targets (issue #17): every page <= 2 s, Home cold start <= 1.5 s, peak memory <= 1 GB at 10M.
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
RESULTS = ROOT / "benchmarks" / "results" / "pages.json"
TARGETS = {"page_first_load_s": 2.0, "home_cold_start_s": 1.5, "peak_rss_mb": 1024}


def pages() -> list[str]:
    """Every page script, as ``AppTest.switch_page`` takes them."""
    return sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))


def _role_for(page: str) -> str:
    from churn_core.auth import PAGE_PERMISSIONS, ROLE_PERMISSIONS

    need = PAGE_PERMISSIONS.get(Path(page).stem.lower(), "read")
    return next(role for role, allowed in ROLE_PERMISSIONS.items() if need in allowed)


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB): ``VmHWM``, which starts afresh at ``exec``.

    ``getrusage``'s ``ru_maxrss`` does not: on Linux a child inherits the parent's peak at fork,
    so a child of this (large) benchmark process would report the parent's memory.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def child(page_list: list[str]) -> None:
    """In a fresh process: Home cold start, then each page's first run; print JSON times and peak RSS."""
    from streamlit.testing.v1 import AppTest

    from tests.helpers.apptest import ENTRY, role_user, sign_in

    t0 = time.perf_counter()
    at = AppTest.from_file(ENTRY, default_timeout=900).run()
    home = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"Home: {at.exception[0].stack_trace}")
    signed_in, times = None, {}
    for page in page_list:
        role = _role_for(page)
        if role != signed_in:
            at = AppTest.from_file(ENTRY, default_timeout=900).run() if signed_in else at
            sign_in(at, role_user(role))
            signed_in = role
        t0 = time.perf_counter()
        at.switch_page(page).run()
        times[page] = time.perf_counter() - t0
        if at.exception:
            raise SystemExit(f"{page}: {at.exception[0].stack_trace}")
    print(json.dumps({"home_cold_start_s": home, "first_load_s": times, "peak_rss_mb": peak_rss_mb()}))


def run_child(page_list: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *page_list], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=3600, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"{page_list}: {proc.stdout[-1000:]} {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_warehouse(n: int, tmp: Path) -> tuple[Path, dict]:
    """N synthetic customers in a fresh DuckDB file, with the studio's after-build steps run."""
    from churn_core.config import RAW_CUSTOMERS_CSV
    from churn_core.data.synthetic import load_synthetic
    from churn_core.data.warehouse import DuckDBWarehouse
    from churn_core.studio import STUDIO_AFTER_BUILD, STUDIO_ENRICH

    real = DuckDBWarehouse(tmp / "real.duckdb", RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    real.build()
    customers = real.query("SELECT * FROM {customers}")
    real.close()
    path = tmp / f"w{n}.duckdb"
    wh = DuckDBWarehouse(path, RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    t0 = time.perf_counter()
    load_synthetic(wh, customers, n, seed=1)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    steps = {}
    for step in STUDIO_AFTER_BUILD:
        s0 = time.perf_counter()
        step(wh, lambda fraction, message: None)
        steps[f"{step.__module__}:{step.__name__}"] = time.perf_counter() - s0
    after = time.perf_counter() - t0
    wh.execute("CHECKPOINT")
    wh.close()
    return path, {"load_s": load_s, "after_build_s": after, "after_build_steps_s": steps}


def bench_size(n: int, tmp: Path, repeats: int) -> dict:
    from tests.helpers.apptest import accounts_json

    path, build = make_warehouse(n, tmp)
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(path), "CHURN_STAFF_USERS": accounts_json(),
           "CHURN_REGISTRY_DIR": str(tmp / "registry")}  # fmt: skip
    result: dict = {"n_customers": n, **build, "load_average_start": list(os.getloadavg())}
    per_page: dict[str, list[float]] = {p: [] for p in pages()}
    homes, rss, errors = [], {}, {}
    for _ in range(repeats):
        for page in pages():
            try:
                run = run_child([page], env)
            except RuntimeError as exc:  # a page that fails is reported, the others still measured
                errors[page] = str(exc)[-1500:]
                print(f"{page} failed: {errors[page]}", file=sys.stderr, flush=True)
                continue
            per_page[page].append(run["first_load_s"][page])
            homes.append(run["home_cold_start_s"])
            rss[page] = max(rss.get(page, 0.0), run["peak_rss_mb"])
    working = [p for p in pages() if p not in errors]
    every = run_child(working, env) if working else {"peak_rss_mb": None, "first_load_s": {}}  # one app process
    result |= {
        "home_cold_start_s": statistics.median(homes),
        "home_cold_start_runs_s": homes,
        "first_load_s": {p: statistics.median(v) if v else None for p, v in per_page.items()},
        "page_errors": errors,
        "first_load_runs_s": per_page,
        "peak_rss_mb": every["peak_rss_mb"],
        "peak_rss_mb_by_page": rss,
        "all_pages_one_process_s": every["first_load_s"],
        "load_average_end": list(os.getloadavg()),
    }
    return result


def markdown(results: dict) -> str:
    sizes = results["sizes"]
    lines = ["| measure | target | " + " | ".join(f"{r['n_customers']:,}" for r in sizes) + " |"]
    lines.append("|---|---:|" + "---:|" * len(sizes))
    lines.append("| Home cold start, s | 1.5 | " + " | ".join(f"{r['home_cold_start_s']:.2f}" for r in sizes) + " |")
    for page in sizes[0]["first_load_s"]:
        cells = " | ".join("error" if r["first_load_s"][page] is None else f"{r['first_load_s'][page]:.2f}"
                           for r in sizes)  # fmt: skip
        lines.append(f"| first load `{page}`, s | 2 | {cells} |")
    lines.append("| app peak memory (every page, one process), MB | 1024 | "
                 + " | ".join(f"{r['peak_rss_mb']:.0f}" for r in sizes) + " |")  # fmt: skip
    lines.append(
        "| after-build steps (precompute), s | | " + " | ".join(f"{r['after_build_s']:.1f}" for r in sizes) + " |"
    )
    lines.append(
        "| load average at start (1 min) | | " + " | ".join(f"{r['load_average_start'][0]:.1f}" for r in sizes) + " |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per page")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    tmp = Path(tempfile.mkdtemp(prefix="bench_pages_"))
    try:
        sizes = []
        for n in args.sizes:
            print(f"{n:,} customers…", flush=True)
            sizes.append(bench_size(n, tmp, args.repeats))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d"),
        "targets": TARGETS,
        "sizes": sizes,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
