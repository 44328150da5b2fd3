"""Benchmark: the prediction API under load on loopback (fixed duration, fixed concurrency).

Usage: ``.venv/bin/python benchmarks/bench_api.py [--seconds 20] [--concurrency 2] [--batch 100]``.
Starts ``churn-studio api`` (uvicorn, one process) on a free 127.0.0.1 port with a fresh key and a
rate limit high enough not to interfere, warms it up, then for each scenario runs ``concurrency``
client threads (one HTTP keep-alive session each) for ``seconds`` and records every request's
latency. Scenarios: ``single`` (``POST /v1/predict``, no explanation), ``single_explain``
(``?explain=true``), ``batch`` (``POST /v1/predict/batch`` with ``--batch`` customers, no
explanation). Customers are real rows of the shipped file, cycled. Writes
``benchmarks/results/api.json`` (requests/s, customers/s, p50/p95/p99 latency in ms, errors),
where one single prediction's time goes in process (request model, upload validation, model),
and prints a Markdown table for the README.

Client and server share the machine's cores, so the figures include the client's own cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "api.json"


def _run(url: str, key: str, bodies: list, seconds: float, concurrency: int) -> dict:
    """``concurrency`` threads POST ``bodies`` (cycled) to ``url`` for ``seconds``: latency statistics."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        with requests.Session() as session:
            session.headers["X-API-Key"] = key
            n = i
            while time.perf_counter() < deadline:  # bounded by time
                t0 = time.perf_counter()
                resp = session.post(url, json=bodies[n % len(bodies)], timeout=60)
                latencies[i].append(time.perf_counter() - t0)
                errors[i] += resp.status_code != 200
                n += concurrency

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - started
    ms = np.array([x for per in latencies for x in per]) * 1e3
    return {
        "requests": int(ms.size), "errors": int(sum(errors)), "seconds": round(elapsed, 2),
        "requests_per_s": round(ms.size / elapsed, 2),
        "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1), "max_ms": round(float(ms.max()), 1),
    }  # fmt: skip


def _in_process(customers: list[dict], repeats: int = 100) -> dict:
    """Where one single prediction's server time goes, in this process, one thread: ms (p50, p95)."""
    import pandas as pd

    from api.deps import load_model
    from api.schemas import RAW_NAME_OF_FIELD, Customer
    from churn_core.config import get_settings
    from churn_core.prediction.business import Economics
    from churn_core.prediction.scoring import prepare_for_scoring, score_frame

    served, economics = load_model(get_settings()), Economics.from_settings(get_settings())
    parts: dict[str, list[float]] = {"request_model_ms": [], "upload_validation_ms": [], "model_ms": []}
    for i in range(repeats + 5):
        t0 = time.perf_counter()
        customer = Customer.model_validate(customers[i % len(customers)])
        t1 = time.perf_counter()
        raw = pd.DataFrame([{RAW_NAME_OF_FIELD[k]: v for k, v in customer.model_dump().items()}])
        prepared = prepare_for_scoring(raw, "<request>", "extended")
        t2 = time.perf_counter()
        score_frame(served.model, prepared, economics)
        t3 = time.perf_counter()
        if i >= 5:  # after a warm-up
            for key, dt_s in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                parts[key].append(dt_s * 1e3)
    return {k: {"p50": round(float(np.percentile(v, 50)), 1), "p95": round(float(np.percentile(v, 95)), 1)}
            for k, v in parts.items()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each scenario")
    parser.add_argument("--concurrency", type=int, default=2, help="client threads (2: one per core here)")
    parser.add_argument("--batch", type=int, default=100, help="customers per batch request")
    args = parser.parse_args()

    from api.keys import generate_api_key, hash_api_key
    from tests.helpers.predict_api import real_customers
    from tests.helpers.servers import free_port, serving

    customers = real_customers(n=max(200, args.batch))
    port, key = free_port(), generate_api_key()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CHURN_WAREHOUSE_PATH": f"{tmp}/warehouse.duckdb", "CHURN_API_PORT": str(port),
               "CHURN_UNSUBSCRIBE_SECRET": "bench-api-key-not-secret-" + "x" * 20,
               "CHURN_API_KEYS": json.dumps({"bench": hash_api_key(key)}), "CHURN_API_RATE_LIMIT": "1000000/minute",
               "CHURN_API_MAX_BATCH": str(max(args.batch, 1))}  # fmt: skip
        cmd = [str(Path(sys.executable).with_name("churn-studio")), "api"]
        with serving(cmd, f"{base}/health", "churn-studio api", 120, Path(tmp) / "api.log", env=env, cwd=ROOT):
            batches = [{"customers": customers[i : i + args.batch]} for i in range(0, len(customers), args.batch)]
            batches = [b for b in batches if len(b["customers"]) == args.batch]
            scenarios = {
                "single": (f"{base}/v1/predict", customers, 1),
                "single_explain": (f"{base}/v1/predict?explain=true", customers, 1),
                "batch": (f"{base}/v1/predict/batch", batches, args.batch),
            }
            results = {}
            for name, (url, bodies, per_request) in scenarios.items():
                _run(url, key, bodies, min(3.0, args.seconds), 1)  # warm-up (explainer built, caches hot)
                res = _run(url, key, bodies, args.seconds, args.concurrency)
                res["customers_per_request"] = per_request
                res["customers_per_s"] = round(res["requests_per_s"] * per_request, 1)
                results[name] = res
    breakdown = _in_process(customers)
    out = {
        "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "seconds_per_scenario": args.seconds,
        "concurrency": args.concurrency,
        "server": "uvicorn, 1 process",
        "scenarios": results,
        "single_in_process_breakdown": breakdown,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print("| scenario | customers/request | requests/s | customers/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['customers_per_request']} | {r['requests_per_s']} | {r['customers_per_s']} | "
              f"{r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['errors']} |")  # fmt: skip
    print("in process, one thread (p50 / p95 ms):", json.dumps(breakdown))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
