"""Benchmark the churn model: final training time, one prediction with explanation, batch scoring.

Usage: ``.venv/bin/python benchmarks/bench_model.py [--rows 1000000] [--skip-training]``.
Writes ``benchmarks/results/model.json`` and prints a Markdown table for the README.

- ``training_s``: fit of the final ensemble (optuna tuning + weights + calibration +
  refit) on all 7,043 customers, the same call ``churn-studio train`` makes.
- ``single_with_explanation_ms``: p50/p90 over 100 customers of one ``score_frame`` call
  with the SHAP explainer (probability, score, tier, drivers, actions), as the page does.
- ``batch_frame_customers_per_s``: ``score_frame`` without explanations on a synthetic
  table of ``--rows`` customers bootstrapped from the real data.
- ``batch_csv_customers_per_s``: the same rows written as a CSV and scored through
  ``score_csv_chunks`` (decode, validate each 100,000-row chunk, score), as the upload does.

The results are also written into ``models/model_card.json`` under ``benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "model.json"


def main() -> None:
    from churn_core.config import RAW_CUSTOMERS_CSV
    from churn_core.data.loading import load_customers
    from churn_core.data.synthetic import grow, to_raw_csv
    from churn_core.prediction.ensemble import ChurnEnsemble
    from churn_core.prediction.explain import EnsembleExplainer
    from churn_core.prediction.features import feature_frame
    from churn_core.prediction.scoring import score_csv_chunks, score_frame
    from churn_core.prediction.training import load_bundle

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()

    customers = load_customers(RAW_CUSTOMERS_CSV)
    result: dict = {"date": time.strftime("%Y-%m-%d"), "rows": args.rows}
    if not args.skip_training:
        start = time.perf_counter()
        ChurnEnsemble(tune_trials=15).fit(feature_frame(customers), customers["churn_flag"].to_numpy())
        result["training_s"] = time.perf_counter() - start

    bundle = load_bundle()
    explainer = EnsembleExplainer(bundle.model, bundle.background)
    times = []
    for i in range(100):
        row = customers.iloc[[i * 70]]
        start = time.perf_counter()
        score_frame(bundle.model, row, explainer=explainer)
        times.append(time.perf_counter() - start)
    result["single_with_explanation_ms"] = {
        "p50": 1000 * float(np.percentile(times, 50)),
        "p90": 1000 * float(np.percentile(times, 90)),
    }

    synthetic = grow(customers, args.rows, seed=1)
    start = time.perf_counter()
    scored = score_frame(bundle.model, synthetic)
    elapsed = time.perf_counter() - start
    result["batch_frame_customers_per_s"] = len(scored) / elapsed
    csv = to_raw_csv(synthetic).to_csv(index=False).encode()
    del synthetic, scored
    start = time.perf_counter()
    n = 0
    for part, done in score_csv_chunks(bundle.model, csv):
        n = done
        del part
    result["batch_csv_customers_per_s"] = n / (time.perf_counter() - start)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    # The model card reports the measured speed of the model it describes.
    from churn_core.config import MODELS_DIR
    from churn_core.prediction.training import CARD_FILE, write_manifest

    card_path = MODELS_DIR / CARD_FILE
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["benchmarks"] = {k: v for k, v in result.items() if k != "training_s"} | {
        "training_s": result.get("training_s", card.get("benchmarks", {}).get("training_s")),
        "source": "benchmarks/bench_model.py",
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    write_manifest(MODELS_DIR)  # the card changed deliberately: record its new hash
    print("| measure | result |\n|---|---|")
    if "training_s" in result:
        print(f"| final ensemble training (7,043 customers) | {result['training_s']:.0f} s |")
    s = result["single_with_explanation_ms"]
    print(f"| one prediction with SHAP explanation (p50 / p90) | {s['p50']:.0f} / {s['p90']:.0f} ms |")
    print(f"| batch scoring, in-memory table ({args.rows:,} rows) | {result['batch_frame_customers_per_s']:,.0f} /s |")
    print(
        f"| batch scoring, CSV with validation ({args.rows:,} rows) | {result['batch_csv_customers_per_s']:,.0f} /s |"
    )
    print(f"| peak memory (RSS) | {result['peak_rss_mb']:,.0f} MB |")


if __name__ == "__main__":
    main()
