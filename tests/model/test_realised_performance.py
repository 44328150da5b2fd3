"""Realised performance (issue #14): metrics from probabilities with paired-bootstrap 95 % intervals,
a calibration table, and the join of outcomes with the scores of the snapshot they belong to."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from churn_core.config import MODELS_DIR, RAW_CUSTOMERS_CSV, Settings
from churn_core.data.tables import TABLES
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.monitoring import health, performance
from churn_core.prediction.batch import score_warehouse
from churn_core.prediction.business import Economics
from churn_core.prediction.metrics import top_decile_lift
from churn_core.prediction.training import OOF_FILE, load_bundle
from churn_core.studio import STUDIO_ENRICH

pytestmark = pytest.mark.model

BASE = dt.date(2019, 9, 30)


@pytest.fixture(scope="module")
def oof() -> pd.DataFrame:
    """Nested out-of-fold probabilities of the shipped model (honest predictions of known outcomes)."""
    return pd.read_parquet(MODELS_DIR / OOF_FILE)


def test_metrics_are_the_library_metrics_with_paired_bootstrap_intervals(oof) -> None:
    y, p = oof["churn_flag"].to_numpy(), oof["proba"].to_numpy()
    m = performance.realised_metrics(y, p, n_resamples=200).set_index("metric")
    assert m.loc["roc_auc", "value"] == pytest.approx(roc_auc_score(y, p))
    assert m.loc["pr_auc", "value"] == pytest.approx(average_precision_score(y, p))
    assert m.loc["top_decile_lift", "value"] == pytest.approx(top_decile_lift(y, p))
    assert m.loc["brier", "value"] == pytest.approx(brier_score_loss(y, p))
    assert (m["low"] < m["value"]).all() and (m["value"] < m["high"]).all()
    assert m.loc["roc_auc", "high"] - m.loc["roc_auc", "low"] < 0.05  # 7,043 customers: a narrow interval
    again = performance.realised_metrics(y, p, n_resamples=200)
    assert again.equals(m.reset_index()[again.columns])  # fixed seed: the same numbers every time
    one_class = performance.realised_metrics(np.ones(50), p[:50], n_resamples=200)
    assert one_class[["value", "low", "high"]].isna().all().all()  # undefined, said so (not a crash)
    some = np.random.default_rng(0).choice(len(y), size=300, replace=False)
    small = performance.realised_metrics(y[some], p[some], n_resamples=200).set_index("metric")
    width = (small["high"] - small["low"])["roc_auc"]
    assert width > 2 * (m["high"] - m["low"])["roc_auc"]  # fewer customers, wider interval
    shuffled = performance.realised_metrics(y, np.random.default_rng(1).permutation(p), 200).set_index("metric")
    assert shuffled.loc["roc_auc", "high"] < m.loc["roc_auc", "low"]  # pairs matter: a broken pairing is caught


def test_calibration_table_and_error(oof) -> None:
    y, p = oof["churn_flag"].to_numpy(), oof["proba"].to_numpy()
    table = performance.calibration_table(y, p)
    assert len(table) == 10 and table["n"].sum() == len(y)
    full = table.dropna()
    assert ((full["low"] <= full["observed"]) & (full["observed"] <= full["high"])).all()
    inside = (p >= 0.3) & (p < 0.4)
    row = table.iloc[3]
    assert row["n"] == inside.sum() and row["observed"] == pytest.approx(y[inside].mean())
    ece = performance.expected_calibration_error(y, p)
    assert ece == pytest.approx(float((table["n"] * (table["predicted"] - table["observed"]).abs()).sum() / len(y)))
    assert ece < 0.05  # the shipped model is calibrated (Platt)
    assert performance.expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.1


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A private warehouse whose base snapshot is scored and stored (one command run)."""
    tmp = tmp_path_factory.mktemp("perf")
    shutil.copy(RAW_CUSTOMERS_CSV, tmp / "raw.csv")
    wh = DuckDBWarehouse(tmp / "w.duckdb", tmp / "raw.csv", enrich=STUDIO_ENRICH)
    wh.ensure_built()
    run = score_warehouse(wh, load_bundle().model, "cd" * 32, Economics.from_settings(), chunk_rows=4000,
                          fit_rows=600, snapshot_date=BASE, model_version="test-model")  # fmt: skip
    yield wh, run
    wh.close()


def _record(wh, frame: pd.DataFrame) -> None:
    wh.execute("DELETE FROM {outcomes} WHERE TRUE")
    wh.append_rows("outcomes", pd.DataFrame({
        "snapshot_date": BASE, "customer_id": frame["customer_id"], "churned": frame["churned"],
        "observed_date": dt.date(2019, 10, 31), "rule": "test", "recorded_at": dt.datetime.now(dt.UTC),
    }))  # fmt: skip


@pytest.mark.skipif("outcomes" not in TABLES, reason="the outcomes table (design part A) is not declared yet")
def test_outcomes_join_the_scores_of_their_snapshot(scored) -> None:
    wh, run = scored
    s = Settings(_env_file=None, bootstrap_resamples=100)
    assert performance.outcome_dates(wh) == [] or performance.outcome_dates(wh) == [BASE]
    customers = wh.query("SELECT customer_id, churn_flag FROM {customers}")
    _record(wh, customers.assign(churned=customers["churn_flag"].astype(bool)))
    assert performance.latest_snapshot_run(wh, BASE) == run["run_id"]
    frame, source = performance.scored_outcomes(wh, BASE, s)
    assert source == f"run {run['run_id']}" and len(frame) == 7043
    stored = wh.query("SELECT customer_id, churn_probability FROM {scores} WHERE run_id = @r", {"r": run["run_id"]})
    merged = frame.merge(stored, on="customer_id", suffixes=("", "_stored"))
    assert np.allclose(merged["churn_probability"], merged["churn_probability_stored"])
    [result] = performance.realised_performance(wh, s)
    m = result["metrics"].set_index("metric")
    assert result["n_events"] == 1869 and not result["too_few"] and not result["simulated"]
    truth = roc_auc_score(frame["churned"], frame["churn_probability"])
    assert m.loc["roc_auc", "value"] == pytest.approx(truth) and m.loc["roc_auc", "low"] < truth
    assert len(result["calibration"]) == 10
    # a handful of churners is flagged too few to tell, and raises no alert
    few = customers.head(400).assign(churned=False)
    few.loc[few.index[:12], "churned"] = True
    _record(wh, few)
    [small] = performance.realised_performance(wh, s)
    assert small["n_events"] == 12 and small["too_few"]
    assert not [a for a in health.health_alerts(wh, s) if a.kind in ("auc_drop", "calibration")]
    # outcomes that contradict the scores (the churners are the lowest-scored) breach the AUC alert
    ranked = frame.sort_values("churn_probability")
    wrong = ranked.assign(churned=np.arange(len(ranked)) < 1869)
    _record(wh, wrong)
    kinds = {a.kind for a in health.health_alerts(wh, s) if a.level == "alert"}
    assert "auc_drop" in kinds and "calibration" in kinds
    assert health.latest_alerts(wh, s)
