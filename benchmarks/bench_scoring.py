"""Benchmark: batch scoring with the compiled ensemble against the plain reference (issue #17).

Usage: ``.venv/bin/python benchmarks/bench_scoring.py [--customers 10000000] [--reference-rows 500000]``
(``--warehouse FILE`` reuses a synthetic DuckDB file made by an earlier run with ``--keep``).
Writes ``benchmarks/results/scoring.json`` and prints a Markdown summary for the README.

In one run, on this machine (wall-clock; the load average is recorded beside every figure,
because the machine may be shared):

- ``compile_s``: :func:`churn_core.prediction.compiled.compile_bundle` of a copy of ``models/``
  (tl2cgen + gcc, the self-check included).
- ``end_to_end``: ``score_warehouse`` in a fresh process on a synthetic warehouse of
  ``--customers`` customers (:func:`churn_core.data.synthetic.load_synthetic`): read chunks from
  DuckDB, compiled ensemble, CLV, write to ``scores``; customers/s and the process's peak RSS.
- ``model_only``: on the same ``--reference-rows`` rows read from that warehouse, customers/s of the
  compiled ensemble (``predict_proba`` from the raw columns) and of the plain reference (each
  member's own ``predict_proba`` pipeline on ``feature_frame`` rows, as ``ChurnEnsemble`` runs
  them), their ratio, and max |Δp| against ``ChurnEnsemble.predict_proba`` there and on the real
  7,043 customers.
- ``breakdown_s``: seconds per stage over the first ``--breakdown-rows`` rows (read, preprocess,
  trees, CLV, frame assembly, write), to say where the time goes.
- ``single``: p50 / p95 ms of one prediction with explanation (``score_one``, SHAP drivers and
  actions) over ``--single`` real customers, compiled and plain.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "scoring.json"
TARGETS = {"customers_per_s": 150_000, "peak_rss_mb": 1536, "max_abs_diff": 1e-6, "single_p50_ms": 30}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def build_warehouse(n: int, path: Path) -> float:
    from churn_core.config import RAW_CUSTOMERS_CSV
    from churn_core.data.synthetic import load_synthetic
    from churn_core.data.warehouse import DuckDBWarehouse
    from churn_core.studio import STUDIO_ENRICH

    real = DuckDBWarehouse(path.parent / "real.duckdb", RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    real.ensure_built()
    customers = real.query("SELECT * FROM {customers}")
    real.close()
    wh = DuckDBWarehouse(path, RAW_CUSTOMERS_CSV)
    t = time.perf_counter()
    load_synthetic(wh, customers, n, seed=1)
    wh.execute("CHECKPOINT")
    wh.close()
    return time.perf_counter() - t


def child_score(bundle: str) -> None:
    """In a fresh process: score the warehouse of CHURN_WAREHOUSE_PATH with the compiled ensemble."""
    from churn_core.config import get_settings
    from churn_core.data.loading import file_sha256
    from churn_core.prediction.batch import score_warehouse
    from churn_core.prediction.compiled import CompiledEnsemble, scoring_model
    from churn_core.prediction.training import MODEL_FILE, load_bundle
    from churn_core.studio import open_studio_warehouse

    settings = get_settings()
    folder = Path(bundle)
    plain = load_bundle(folder)
    model = scoring_model(plain.model, folder, plain.background)
    if not isinstance(model, CompiledEnsemble):
        raise SystemExit("the compiled ensemble did not load")
    wh = open_studio_warehouse(settings)
    before = load()
    result = score_warehouse(
        wh, model, file_sha256(folder / MODEL_FILE), chunk_rows=settings.score_chunk_rows,
        fit_rows=settings.max_fit_rows, settings=settings,
    )  # fmt: skip
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["load_avg_before"], result["load_avg_after"] = before, load()
    print(json.dumps({k: v for k, v in result.items() if isinstance(v, (int, float, str, list))}, default=str))


def run_child(args: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, timeout=7200, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{args}: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def model_only(wh, plain, compiled, rows: int) -> dict:
    from churn_core.config import RAW_CUSTOMERS_CSV
    from churn_core.data.loading import load_customers
    from churn_core.prediction.features import feature_frame

    frame = wh.query(f"SELECT * FROM {{customers}} LIMIT {int(rows)}")
    model = plain.model
    out: dict = {"rows": len(frame), "load_avg_before": load()}
    t = time.perf_counter()
    p_fast = compiled.predict_proba(frame)[:, 1]
    out["compiled_s"] = time.perf_counter() - t
    t = time.perf_counter()
    X = feature_frame(frame, model.features)
    members = np.column_stack([pipe.predict_proba(X)[:, 1] for _, pipe in model.members_])  # the reference
    out["reference_s"] = time.perf_counter() - t
    p_plain = model._calibrate(members @ model.weights_)
    out["load_avg_after"] = load()
    out["compiled_customers_per_s"] = len(frame) / out["compiled_s"]
    out["reference_customers_per_s"] = len(frame) / out["reference_s"]
    out["ratio"] = out["compiled_customers_per_s"] / out["reference_customers_per_s"]
    out["max_abs_diff_synthetic"] = float(np.max(np.abs(p_fast - p_plain)))
    real = load_customers(RAW_CUSTOMERS_CSV)
    Xr = feature_frame(real, model.features)
    out["max_abs_diff_real"] = float(np.max(np.abs(compiled.predict_proba(Xr)[:, 1] - model.predict_proba(Xr)[:, 1])))
    return out


def breakdown(wh, compiled, rows: int, chunk_rows: int) -> dict:
    """Seconds per stage of batch scoring over the first ``rows`` customers (as score_chunk runs them)."""
    from churn_core.analytics.survival import SurvivalModel
    from churn_core.data.customers import customer_sample
    from churn_core.data.tables import SCORES
    from churn_core.prediction.business import Economics, risk_score, risk_tier
    from churn_core.prediction.scoring import _weibull_clv

    clv_model = SurvivalModel("weibull").fit(customer_sample(wh, 20_000))
    economics = Economics.from_settings()
    stages = dict.fromkeys(("read", "preprocess", "trees", "clv", "assemble", "write"), 0.0)
    out: dict = {"rows": 0, "load_avg_before": load()}
    chunks = wh.iter_batches("SELECT * FROM {customers}", batch_size=chunk_rows)
    t = time.perf_counter()
    for chunk in chunks:
        stages["read"] += time.perf_counter() - t
        t = time.perf_counter()
        Z = compiled.encode(chunk)
        stages["preprocess"] += time.perf_counter() - t
        t = time.perf_counter()
        proba = compiled.model._calibrate(compiled.member_proba_encoded(chunk, Z) @ compiled.weights_)
        stages["trees"] += time.perf_counter() - t
        t = time.perf_counter()
        clv = _weibull_clv(clv_model, chunk)
        stages["clv"] += time.perf_counter() - t
        t = time.perf_counter()
        monthly = chunk["monthly_charges"].to_numpy(dtype=float)
        rows_out = chunk[["customer_id"]].assign(
            run_id="bench-breakdown", churn_probability=proba, risk_score=risk_score(proba),
            risk_tier=risk_tier(proba), expected_profit_usd=economics.expected_profit(proba, monthly),
            clv_usd=clv["clv_usd"].to_numpy(), revenue_at_risk_12m_usd=clv["revenue_at_risk_12m_usd"].to_numpy(),
            scored_at=dt.datetime.now(dt.UTC),
        )[SCORES.names]  # fmt: skip
        stages["assemble"] += time.perf_counter() - t
        t = time.perf_counter()
        wh.append_rows(SCORES.name, rows_out)
        stages["write"] += time.perf_counter() - t
        out["rows"] += len(chunk)
        if out["rows"] >= rows:
            break
        t = time.perf_counter()
    wh.execute("DELETE FROM {scores} WHERE run_id = 'bench-breakdown'")
    out["load_avg_after"] = load()
    out["seconds"] = stages
    out["customers_per_s_of_stages"] = out["rows"] / sum(stages.values())
    return out


def single(plain, compiled, n: int) -> dict:
    from churn_core.config import RAW_CUSTOMERS_CSV
    from churn_core.data.loading import load_customers
    from churn_core.prediction.business import Economics
    from churn_core.prediction.explain import EnsembleExplainer
    from churn_core.prediction.scoring import score_one

    customers = load_customers(RAW_CUSTOMERS_CSV)
    economics = Economics.from_settings()
    out: dict = {"n": n, "load_avg_before": load()}
    for name, model in (("compiled", compiled), ("plain", plain.model)):
        explainer = EnsembleExplainer(model, plain.background)
        score_one(model, customers.iloc[0], explainer, economics)  # warm-up
        times = []
        for i in range(n):
            t = time.perf_counter()
            score_one(model, customers.iloc[(i * 37) % len(customers)], explainer, economics)
            times.append((time.perf_counter() - t) * 1000)
        out[name] = {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95))}
    out["load_avg_after"] = load()
    return out


def markdown(r: dict) -> str:
    e, m, s = r["end_to_end"], r["model_only"], r["single"]
    rows = [
        ("batch scoring end to end (DuckDB → compiled ensemble + CLV → scores), customers/s",
         f"{e['customers_per_second']:,.0f}", "≥ 150,000"),
        ("… customers scored", f"{e['n_rows']:,}", "10,000,000"),
        ("… peak memory, MB", f"{e['peak_rss_mb']:,.0f}", "≤ 1,536"),
        ("model only: compiled / reference (members' own predict_proba), customers/s",
         f"{m['compiled_customers_per_s']:,.0f} / {m['reference_customers_per_s']:,.0f} (× {m['ratio']:.1f})", ""),
        ("max abs Δp vs predict_proba (real 7,043 / synthetic rows)",
         f"{m['max_abs_diff_real']:.1e} / {m['max_abs_diff_synthetic']:.1e}", "≤ 1e-6"),
        ("one prediction with explanation p50 / p95, ms (compiled)",
         f"{s['compiled']['p50_ms']:.1f} / {s['compiled']['p95_ms']:.1f}", "p50 ≤ 30"),
        ("… plain ensemble p50 / p95, ms", f"{s['plain']['p50_ms']:.1f} / {s['plain']['p95_ms']:.1f}", ""),
        ("compile (tl2cgen + gcc + self-check), s", f"{r['compile_s']:.1f}", ""),
    ]  # fmt: skip
    lines = ["| | measured | target |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    b = r["breakdown"]
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in b["seconds"].items())
    lines.append(f"\nBreakdown over the first {b['rows']:,} customers: {parts}. Load average: {r['load_avg']}.")
    return "\n".join(lines)


def only_single(n: int) -> None:
    """Re-measure ``single`` alone (compiled copy of ``models/``) and replace it in the results file."""
    from churn_core.config import MODELS_DIR
    from churn_core.prediction.compiled import compile_bundle, load_compiled
    from churn_core.prediction.training import BUNDLE_FILES, MANIFEST_FILE, load_bundle

    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="bench_single_") as tmp:
        bundle = Path(tmp) / "bundle"
        bundle.mkdir()
        for name in (*BUNDLE_FILES, MANIFEST_FILE):
            shutil.copy2(MODELS_DIR / name, bundle / name)
        compile_bundle(bundle)
        plain = load_bundle(bundle)
        results["single"] = single(plain, load_compiled(bundle, plain.model, plain.background), n)
    results["single"]["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(markdown(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--reference-rows", type=int, default=500_000)
    parser.add_argument("--breakdown-rows", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--warehouse", type=Path, default=None, help="reuse this synthetic DuckDB file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (warehouse)")
    parser.add_argument("--child-score", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--only-single", action="store_true",
        help="re-measure only the single prediction (p50/p95) and update that entry of the results file",
    )  # fmt: skip
    args = parser.parse_args()
    if args.child_score:
        return child_score(args.child_score)
    if args.only_single:
        return only_single(args.single)

    from churn_core.config import MODELS_DIR, RAW_CUSTOMERS_CSV
    from churn_core.data.warehouse import DuckDBWarehouse
    from churn_core.prediction.compiled import compile_bundle, load_compiled
    from churn_core.prediction.training import BUNDLE_FILES, MANIFEST_FILE, load_bundle

    tmp = Path(tempfile.mkdtemp(prefix="bench_scoring_"))
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()}, "targets": TARGETS}  # fmt: skip
    try:
        bundle = tmp / "bundle"
        bundle.mkdir()
        for name in (*BUNDLE_FILES, MANIFEST_FILE):
            shutil.copy2(MODELS_DIR / name, bundle / name)
        t = time.perf_counter()
        compile_bundle(bundle)
        results["compile_s"], results["compile_load_avg"] = time.perf_counter() - t, load()
        print(f"compiled in {results['compile_s']:.1f} s", flush=True)
        path = args.warehouse
        if path is None:
            path = tmp / "warehouse.duckdb"
            results["warehouse_build_s"] = build_warehouse(args.customers, path)
            print(f"built {args.customers:,} customers in {results['warehouse_build_s']:.0f} s", flush=True)
        env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(path), "CHURN_REGISTRY_DIR": str(tmp / "registry")}
        results["end_to_end"] = run_child(["--child-score", str(bundle)], env)
        print(f"end to end: {results['end_to_end']['customers_per_second']:,.0f}/s", flush=True)
        plain = load_bundle(bundle)
        compiled = load_compiled(bundle, plain.model, plain.background)
        wh = DuckDBWarehouse(path, RAW_CUSTOMERS_CSV)
        results["model_only"] = model_only(wh, plain, compiled, args.reference_rows)
        print(f"model only: × {results['model_only']['ratio']:.1f}", flush=True)
        results["breakdown"] = breakdown(wh, compiled, args.breakdown_rows, 100_000)
        wh.close()
        results["single"] = single(plain, compiled, args.single)
        results["load_avg"] = load()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
