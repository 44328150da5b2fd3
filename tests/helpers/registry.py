"""Helpers of the model-registry tests: a tiny trained bundle (seconds, not minutes) and registry settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from churn_core.prediction.features import MODEL_FEATURES
from churn_core.prediction.training import fit_final_model, write_card, write_manifest


def tiny_bundle(folder: Path, customers: pd.DataFrame, n: int = 400, seed: int = 1) -> Path:
    """A real, loadable bundle of the extended schema fitted on ``n`` customers without tuning.

    Its model file differs from the shipped one (and between seeds), so it registers as a new version.
    """
    folder.mkdir(parents=True, exist_ok=True)
    entries = fit_final_model(customers.sample(n, random_state=seed), folder, tune_trials=0)
    card = {
        "name": "churn-ensemble-extended",
        "schema": "extended",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "features": list(MODEL_FEATURES),
        **entries,
    }
    write_card(card, folder)
    write_manifest(folder)
    return folder


def no_compiling(monkeypatch) -> None:
    """Registering and promoting skip the (slow) C compilation of the scoring-speed work in these tests."""
    from churn_core.prediction import registry

    monkeypatch.setattr(registry, "_compile", lambda path: None)
