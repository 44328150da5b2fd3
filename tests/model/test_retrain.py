"""Safe retraining: a challenger on the earlier snapshots, compared with the champion on the newest one.

The snapshots are stood in by two disjoint sets of real customers (``labelled_snapshots`` and
``_snapshot_rows`` replaced), so each run fits a tiny challenger in seconds; the command's exit
code 2 runs for real on the session warehouse, which holds one snapshot.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from typer.testing import CliRunner

from churn_core.config import Settings, get_settings
from churn_core.prediction import registry, retraining
from churn_core.prediction.training import OOF_FILE, load_bundle
from tests.helpers.registry import no_compiling

pytestmark = pytest.mark.model

EARLIER, NEWEST = dt.date(2019, 9, 30), dt.date(2019, 10, 31)


@pytest.fixture
def two_snapshots(monkeypatch, customers):
    """Snapshot EARLIER: 70 % of the customers; NEWEST (held out): the other 30 %, each with its own churn label."""
    held = pd.Series(range(len(customers))) % 10 < 3  # 30 %, fixed
    frames = {EARLIER: customers[~held].reset_index(drop=True), NEWEST: customers[held].reset_index(drop=True)}
    monkeypatch.setattr(retraining, "labelled_snapshots", lambda wh: ([EARLIER], NEWEST))
    monkeypatch.setattr(retraining, "_snapshot_rows", lambda wh, day: frames[day].copy())
    return frames


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    no_compiling(monkeypatch)
    return Settings(_env_file=None, registry_dir=tmp_path / "registry", retrain_trials=1)


def _run(duckdb_warehouse, settings, **kwargs) -> retraining.RetrainResult:
    return retraining.retrain(duckdb_warehouse, settings, max_train_rows=600, **kwargs)


def test_a_challenger_better_by_the_margin_is_promoted(duckdb_warehouse, two_snapshots, settings) -> None:
    champion = registry.champion_version(settings)
    result = _run(duckdb_warehouse, settings, margin=-1.0, max_brier_increase=1.0)  # any challenger qualifies
    assert (result.decision, result.exit_code) == ("promoted", 0)
    assert result.champion_version == champion and result.challenger_version != champion
    assert registry.champion_version(settings) == result.challenger_version
    assert (result.train_snapshots, result.held_out_snapshot) == (["2019-09-30"], "2019-10-31")
    assert result.n_train == 600 and result.n_held_out == len(two_snapshots[NEWEST])
    last = registry.history(settings)[-1]
    assert last["event"] == "promote" and last["version"] == result.challenger_version
    assert last["champion_metrics"] == result.champion_metrics
    assert last["challenger_metrics"] == result.challenger_metrics
    assert last["reason"].startswith("promoted:") and last["actor"] == "churn-studio retrain"
    card = load_bundle(registry.champion_dir(settings)).card
    assert card["evaluation"]["kind"] == "held_out_snapshot" and "no cross-validation" in card["evaluation"]["method"]
    assert card["training_data"]["snapshots"] == ["2019-09-30"] and card["sequence_model"]["text"]["en"]
    roc = card["evaluation"]["extended_features"]["all"]["roc_auc"]
    assert roc["mean"] == pytest.approx(result.challenger_metrics["roc_auc"]) and roc["std"] > 0
    oof = pd.read_parquet(registry.champion_dir(settings) / OOF_FILE)
    assert sorted(oof["customer_id"]) == sorted(two_snapshots[NEWEST]["customer_id"])  # the held-out customers
    assert registry.champion_info(settings)["metrics"]["evaluated_on"] == "held-out snapshot 2019-10-31"


def test_a_challenger_short_of_the_margin_is_registered_but_not_promoted(
    duckdb_warehouse, two_snapshots, settings
) -> None:
    champion = registry.champion_version(settings)
    result = _run(duckdb_warehouse, settings, margin=1.0)  # no model gains 1.0 ROC-AUC
    assert (result.decision, result.exit_code) == ("kept", 3)
    assert registry.champion_version(settings) == champion
    assert result.challenger_version in [v["version"] for v in registry.list_versions(settings)]  # promotable later
    last = registry.history(settings)[-1]
    assert last["event"] == "reject" and last["version"] == result.challenger_version
    assert "ROC-AUC gain below the margin" in last["reason"] and last["margin"] == 1.0
    assert set(last["champion_metrics"]) == {"roc_auc", "pr_auc", "brier"}


def test_the_decision_rule() -> None:
    champ = {"roc_auc": 0.85, "pr_auc": 0.70, "brier": 0.120}
    assert retraining.decide(champ, {"roc_auc": 0.86, "pr_auc": 0.7, "brier": 0.119}, "roc_auc", 0.005, 0.0)[0]
    kept, why = retraining.decide(champ, {"roc_auc": 0.86, "pr_auc": 0.7, "brier": 0.121}, "roc_auc", 0.005, 0.0)
    assert not kept and "calibration (Brier) worse than allowed" in why
    kept, why = retraining.decide(champ, {"roc_auc": 0.853, "pr_auc": 0.7, "brier": 0.1}, "roc_auc", 0.005, 0.0)
    assert not kept and "ROC-AUC gain below the margin" in why and "+0.0030" in why
    assert retraining.decide(champ, {"roc_auc": 0.80, "pr_auc": 0.72, "brier": 0.1}, "pr_auc", 0.01, 0.0)[0]


def test_the_command_needs_two_snapshots(duckdb_warehouse, tmp_path, monkeypatch) -> None:
    from churn_core.cli import app

    no_compiling(monkeypatch)
    monkeypatch.setenv("CHURN_REGISTRY_DIR", str(tmp_path / "registry"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["retrain"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "at least two snapshots" in result.output
    decisions = registry.history(Settings(_env_file=None, registry_dir=tmp_path / "registry"))
    assert not [e for e in decisions if e["event"] in ("reject", "register") and e["actor"] != "seed"]
