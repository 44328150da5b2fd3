"""Benchmark: how long the monthly operations take, each command in a fresh process (wall seconds).

Usage: ``.venv/bin/python benchmarks/bench_ops.py [--runs 3] [--trials N] [--max-train-rows N]``.

Every run starts from nothing in a temporary folder (``CHURN_WAREHOUSE_PATH``,
``CHURN_REGISTRY_DIR``, ``CHURN_SNAPSHOTS_DIR``, ``CHURN_LOG_DIR`` point there; the shipped IBM
file and ``models/`` are only read) and times, as a user would run them:

1. ``churn-studio warehouse build``: the shipped file as the first snapshot (context, not asked for);
2. ``churn-studio snapshot synthesize --seed 0``: a synthetic next month from the champion's
   probabilities, written to CSV and ingested (the champion is seeded from ``models/`` here);
3. ``churn-studio ingest FILE --as-of D``: that month's file ingested into a copy of the warehouse
   as it was after step 1 (validation, the snapshot table, outcomes of the earlier snapshot,
   scoring of the new one);
4. ``churn-studio snapshot synthesize --seed 1``: a second month, so that two snapshots are labelled;
5. ``churn-studio retrain``: challenger fit on the labelled snapshots, both models on the newest
   labelled one, the decision (its exit code is recorded: 0 promoted, 3 kept).

Writes ``benchmarks/results/ops.json`` (median and every run's seconds per step, exit codes, the
machine's load average before and after: other work on the machine slows every step) and prints a
Markdown table for the README. A command this tree does not have yet is skipped with a
message, and so are the steps that need it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "ops.json"
CLI = str(Path(sys.executable).with_name("churn-studio"))
TIMEOUT_S = 3_600  # one command, at most
STEPS = ("warehouse_build", "snapshot_synthesize", "ingest_as_of", "snapshot_synthesize_2", "retrain")
NEEDS = {  # step -> the command it runs (checked with --help before any run)
    "warehouse_build": ("warehouse", "build"),
    "snapshot_synthesize": ("snapshot", "synthesize"),
    "ingest_as_of": ("ingest",),
    "snapshot_synthesize_2": ("snapshot", "synthesize"),
    "retrain": ("retrain",),
}


def _env(folder: Path, warehouse: Path, registry: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CHURN_WAREHOUSE_PATH": str(warehouse),
        "CHURN_REGISTRY_DIR": str(registry),
        "CHURN_SNAPSHOTS_DIR": str(folder / "snapshots"),
        "CHURN_LOG_DIR": str(folder / "logs"),
        "CHURN_UNSUBSCRIBE_SECRET": "bench-ops-signing-key-not-secret-" + "x" * 16,
        "COLUMNS": "200",  # rich wraps less: the log of the commands' output stays readable
    }


def _timed(args: list[str], env: dict[str, str], log: Path) -> tuple[float, int, str]:
    """Run ``churn-studio args`` in a fresh process: (wall seconds, exit code, stdout)."""
    started = time.perf_counter()
    done = subprocess.run([CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S,
                          check=False)  # fmt: skip
    seconds = time.perf_counter() - started
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ churn-studio {' '.join(args)}  -> exit {done.returncode}, {seconds:.1f} s\n")
        out.write(done.stdout[-4_000:] + done.stderr[-4_000:] + "\n")
    return seconds, done.returncode, done.stdout


def _available(command: tuple[str, ...]) -> bool:
    done = subprocess.run([CLI, *command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip
    return done.returncode == 0


def _written_file(folder: Path, seed: int) -> tuple[Path, str]:
    """The CSV ``snapshot synthesize --seed seed`` wrote under ``folder/snapshots`` and its date (from its name)."""
    found = sorted((folder / "snapshots").glob(f"synthetic_*_seed{seed}.csv"))
    if len(found) != 1:
        raise RuntimeError(f"expected one synthetic snapshot of seed {seed} in {folder / 'snapshots'}, found {found}")
    day = re.search(r"synthetic_(\d{4})(\d{2})(\d{2})_", found[0].name)
    return found[0], "-".join(day.groups())


def one_run(folder: Path, extra_retrain: list[str], skip: set[str], log: Path) -> Iterator[tuple[str, tuple]]:
    """One run from an empty folder: yields (step, (seconds, exit code)) as each step ends."""
    wh, reg = folder / "warehouse.duckdb", folder / "registry"
    env = _env(folder, wh, reg)
    yield "warehouse_build", _timed(["warehouse", "build"], env, log)[:2]
    shutil.copy2(wh, folder / "base.duckdb")  # the warehouse before any later month, for the ingest step
    if "snapshot_synthesize" in skip:
        return
    seconds, code, _ = _timed(["snapshot", "synthesize", "--seed", "0"], env, log)
    yield "snapshot_synthesize", (seconds, code)
    if code != 0:
        return
    if "ingest_as_of" not in skip:
        csv, day = _written_file(folder, 0)
        shutil.copytree(reg, folder / "registry_copy")  # the champion is seeded: not part of an ingest
        copy_env = _env(folder / "copy", folder / "base.duckdb", folder / "registry_copy")
        yield "ingest_as_of", _timed(["ingest", str(csv), "--as-of", day], copy_env, log)[:2]
    seconds, code, _ = _timed(["snapshot", "synthesize", "--seed", "1"], env, log)
    yield "snapshot_synthesize_2", (seconds, code)
    if code == 0 and "retrain" not in skip:
        yield "retrain", _timed(["retrain", *extra_retrain], env, log)[:2]


def _write_report(results: dict, done: int, runs: int, extra: list[str], missing: dict, load_before) -> dict:
    """Write ops.json for the runs done so far; return its ``steps``."""
    steps = {
        step: {
            "median_s": round(statistics.median(s for s, _ in values), 2),
            "runs_s": [round(s, 2) for s, _ in values],
            "exit_codes": [c for _, c in values],
        }
        for step, values in results.items()
        if values
    }
    report = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_1m_before_after": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
        },
        "runs": done,  # the last one may be partial (the file is written after every step)
        "runs_asked": runs,
        "what": "wall seconds per churn-studio command, fresh process each, on the shipped IBM file "
        "(7,043 customers) in a temporary copy; median of the runs",
        "retrain_options": extra,
        "steps": steps,
        "skipped": {step: f"churn-studio {cmd} does not exist yet" for step, cmd in missing.items()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Runs (each from an empty folder); the median is kept.")
    parser.add_argument("--trials", type=int, default=None, help="retrain --trials (default: the settings').")
    parser.add_argument("--max-train-rows", type=int, default=None, help="retrain --max-train-rows (quick runs).")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 10))  # bounded
    missing = {step: " ".join(cmd) for step, cmd in NEEDS.items() if not _available(cmd)}
    for step, cmd in missing.items():
        print(f"skipped {step}: `churn-studio {cmd}` does not exist in this tree yet")
    skip = set(missing)
    if "snapshot_synthesize" in skip:
        skip |= {"ingest_as_of", "snapshot_synthesize_2", "retrain"}
    extra = [*(["--trials", str(args.trials)] if args.trials is not None else []),
             *(["--max-train-rows", str(args.max_train_rows)] if args.max_train_rows else [])]  # fmt: skip
    log = RESULTS.with_suffix(".log")
    log.write_text(f"bench_ops {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n", encoding="utf-8")
    load_before = os.getloadavg()
    results: dict[str, list[tuple[float, int]]] = {step: [] for step in STEPS}
    steps: dict[str, dict] = {}
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench_ops_") as tmp:
            for step, value in one_run(Path(tmp), extra, skip, log):
                results[step].append(value)
                print(f"run {i + 1}: {step:22s} {value[0]:7.1f} s  exit {value[1]}", flush=True)
                steps = _write_report(results, i + 1, runs, extra, missing, load_before)  # kept if stopped
    print("\n| step | median s | runs (s) | exit codes |\n|---|---:|---|---|")
    for step, row in steps.items():
        print(f"| `{step}` | {row['median_s']:.1f} | {', '.join(f'{s:.1f}' for s in row['runs_s'])} | "
              f"{', '.join(map(str, row['exit_codes']))} |")  # fmt: skip
    print(f"wrote {RESULTS} (commands' output in {log})")


if __name__ == "__main__":
    main()
