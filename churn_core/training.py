"""Training, evaluation and persistence of the churn model (artifacts under ``models/``).

Artifacts (all small enough to commit):

- ``churn_ensemble.skops``: the fitted :class:`churn_core.ensemble.ChurnEnsemble`, saved
  with skops (no pickle; loading checks every type against an allow-list);
- ``explainer_background.parquet``: 200 training customers for the linear SHAP explainer;
- ``model_card.json``: data hash, features, versions, metrics, timing, date;
- ``leaderboard.csv``: every candidate of the grid, 5×3 repeated CV, mean ± std;
- ``oof_predictions.parquet``: nested out-of-fold ensemble probabilities per customer,
  for the evaluation plots (ROC, PR, calibration, lift, profit).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio

from churn_core.business import Economics
from churn_core.config import MODELS_DIR
from churn_core.ensemble import ChurnEnsemble
from churn_core.features import FEATURE_SETS, MODEL_FEATURES, feature_frame
from churn_core.loading import file_sha256
from churn_core.metrics import METRICS
from churn_core.modeling import SEED, CVResult, candidate_grid, cross_validate, cv_splits, leaderboard
from churn_core.schema import LEAKAGE_COLUMNS, TARGET

MODEL_FILE = "churn_ensemble.skops"
CARD_FILE = "model_card.json"
LEADERBOARD_FILE = "leaderboard.csv"
OOF_FILE = "oof_predictions.parquet"
BACKGROUND_FILE = "explainer_background.parquet"

#: Types a model file may contain; anything else makes loading fail (skops trust list).
TRUSTED_PREFIXES: tuple[str, ...] = (
    "churn_core.", "sklearn.", "imblearn.", "lightgbm.", "xgboost.", "numpy.", "collections.OrderedDict",
    "builtins.", "scipy.",
)  # fmt: skip
LIBRARIES: tuple[str, ...] = (
    "scikit-learn", "imbalanced-learn", "lightgbm", "xgboost-cpu", "optuna", "shap", "skops", "pandas", "numpy",
)  # fmt: skip

Progress = Callable[[float, str], None]


def _quiet(fraction: float, message: str) -> None:
    return None


@dataclass
class Bundle:
    """A loaded model with what the app needs beside it."""

    model: ChurnEnsemble
    background: pd.DataFrame
    card: dict


def load_bundle(directory: Path = MODELS_DIR) -> Bundle:
    """Load the model, explainer background and model card from ``directory``.

    Raises
    ------
    FileNotFoundError
        If the artifacts are missing (run ``churn-studio train``).
    TypeError
        If the model file holds a type outside :data:`TRUSTED_PREFIXES`.
    """
    path = Path(directory) / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `churn-studio train`")
    untrusted = sio.get_untrusted_types(file=path)
    unexpected = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if unexpected:
        raise TypeError(f"{path.name} holds types outside the allow-list: {unexpected}")
    model = sio.load(path, trusted=untrusted).set_inference_threads(os.cpu_count() or 1)
    background = pd.read_parquet(Path(directory) / BACKGROUND_FILE)
    card = json.loads((Path(directory) / CARD_FILE).read_text(encoding="utf-8"))
    return Bundle(model, background, card)


def artifacts_exist(directory: Path = MODELS_DIR) -> bool:
    """True when the model, background and card are all present."""
    return all((Path(directory) / f).exists() for f in (MODEL_FILE, BACKGROUND_FILE, CARD_FILE))


def _summary_dict(result: CVResult) -> dict:
    s = result.summary()
    return {
        group: {m: {"mean": float(s.loc[group, f"{m}_mean"]), "std": float(s.loc[group, f"{m}_std"])} for m in METRICS}
        for group in ("all", "seniors")
    }


def evaluate_ensemble(
    customers: pd.DataFrame,
    features: tuple[str, ...] = MODEL_FEATURES,
    tune_trials: int = 20,
    n_repeats: int = 3,
    threshold: float = 0.5,
    n_jobs: int = 2,
) -> CVResult:
    """Nested repeated 5-fold CV of the whole ensemble (tuning, weights, calibration inside)."""
    X = feature_frame(customers, features)
    y = customers[TARGET].to_numpy()
    senior = customers["is_senior"].to_numpy()
    splits = cv_splits(y, senior, 5, n_repeats, SEED)
    model = ChurnEnsemble(features=features, tune_trials=tune_trials)
    return cross_validate(model, X, y, senior, splits, threshold, "ensemble", n_jobs=n_jobs)


def evaluate_grid(customers: pd.DataFrame, threshold: float, n_repeats: int = 3, progress: Progress = _quiet):
    """5×``n_repeats`` CV of every candidate of the grid; returns the leaderboard."""
    X = feature_frame(customers)
    y = customers[TARGET].to_numpy()
    senior = customers["is_senior"].to_numpy()
    splits = cv_splits(y, senior, 5, n_repeats, SEED)
    grid = candidate_grid()
    results = []
    for i, cand in enumerate(grid):
        progress(i / len(grid), f"candidate {cand.name}")
        results.append(cross_validate(cand.pipeline(), X, y, senior, splits, threshold, cand.name))
    return leaderboard(results)


def train(
    customers: pd.DataFrame,
    raw_csv: Path,
    out_dir: Path = MODELS_DIR,
    tune_trials: int = 20,
    evaluate: bool = True,
    grid: bool = True,
    n_repeats: int = 3,
    economics: Economics | None = None,
    progress: Progress = _quiet,
) -> dict:
    """Train the final ensemble on all customers, evaluate it, and write every artifact.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers (see :func:`churn_core.loading.load_customers`).
    raw_csv : Path
        The file ``customers`` came from (its SHA-256 goes into the model card).
    evaluate : bool
        Run the nested 5×``n_repeats`` CV of the ensemble (and of the classic-feature
        variant); otherwise the card keeps the metrics of the previous card, if any.
    grid : bool
        Run the candidate leaderboard (the slowest step: about 20 minutes here).

    Returns
    -------
    dict
        The model card.
    """
    economics = economics or Economics.from_settings()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    threshold = economics.global_threshold(customers["monthly_charges"])
    previous = json.loads((out_dir / CARD_FILE).read_text()) if (out_dir / CARD_FILE).exists() else {}
    card: dict = {
        "model": "ChurnEnsemble: weighted soft voting of LightGBM, XGBoost and logistic regression, "
        "optuna-tuned, Platt-calibrated",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_data": {
            "file": raw_csv.name,
            "sha256": file_sha256(raw_csv),
            "n_customers": len(customers),
            "churn_rate": float(customers[TARGET].mean()),
        },
        "features": list(MODEL_FEATURES),
        "excluded_leakage_columns": list(LEAKAGE_COLUMNS),
        "seed": SEED,
        "economics": economics.model_dump(),
        "operating_threshold": threshold,
        "versions": {"python": platform.python_version(), **{lib: version(lib) for lib in LIBRARIES}},
        "evaluation": previous.get("evaluation", {}),
    }

    progress(0.02, "final fit on all customers")
    X = feature_frame(customers)
    y = customers[TARGET].to_numpy()
    start = time.perf_counter()
    model = ChurnEnsemble(tune_trials=tune_trials).fit(X, y)
    card["training_seconds"] = time.perf_counter() - start
    card["members"] = [
        {"name": name, "weight": float(w), "tuned_params": model.tuned_params_.get(name, {})}
        for (name, _), w in zip(model.members_, model.weights_, strict=True)
    ]
    sio.dump(model, out_dir / MODEL_FILE)
    X.sample(200, random_state=SEED).to_parquet(out_dir / BACKGROUND_FILE, index=False)

    if evaluate:
        progress(0.25, "nested 5×3 CV of the ensemble (extended features)")
        result = evaluate_ensemble(customers, tune_trials=tune_trials, n_repeats=n_repeats, threshold=threshold)
        progress(0.55, "nested 5-fold CV of the ensemble (19 classic features)")
        classic = evaluate_ensemble(customers, FEATURE_SETS["classic"], tune_trials, n_repeats=1, threshold=threshold)
        card["evaluation"] = {
            "method": f"nested repeated stratified 5-fold CV ({n_repeats} repeats, stratified on churn x senior); "
            "optuna tuning, ensemble weights and calibration are fitted inside each outer training fold",
            "threshold_for_f1_precision_recall": threshold,
            "extended_features": _summary_dict(result),
            "classic_features": _summary_dict(classic),
            "classic_features_method": "the same nested pipeline on the 19 classic Kaggle columns, 5 folds x 1 repeat",
        }
        pd.DataFrame(
            {
                "customer_id": customers["customer_id"],
                "churn_flag": y,
                "is_senior": customers["is_senior"].to_numpy(),
                "monthly_charges": customers["monthly_charges"].to_numpy(),
                "proba": np.nanmean(result.oof, axis=0),
                **{f"proba_repeat_{i}": result.oof[i] for i in range(result.oof.shape[0])},
            }
        ).to_parquet(out_dir / OOF_FILE, index=False)
    if grid:
        progress(0.7, "candidate leaderboard")
        board = evaluate_grid(customers, threshold, n_repeats, lambda f, m: progress(0.7 + 0.3 * f, m))
        board.to_csv(out_dir / LEADERBOARD_FILE, index=False)
    (out_dir / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    progress(1.0, "done")
    return card
