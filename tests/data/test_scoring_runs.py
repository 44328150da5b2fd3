"""Scoring runs (issue #14): every run writes one ``scoring_runs`` row, batch scoring keeps the scores
of other snapshots, the API logs through a bounded buffer flushed on count, on age and at shutdown."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil

import numpy as np
import pytest
from fastapi.testclient import TestClient

from churn_core.config import RAW_CUSTOMERS_CSV, Settings
from churn_core.data.customers import customer_sample
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.monitoring import runs
from churn_core.prediction.batch import score_warehouse
from churn_core.prediction.business import Economics
from churn_core.prediction.training import load_bundle
from churn_core.studio import STUDIO_ENRICH
from tests.helpers.predict_api import api_settings, real_customers

pytestmark = pytest.mark.data

D1, D2 = dt.date(2019, 9, 30), dt.date(2019, 10, 31)


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """A private, built DuckDB warehouse (tests here write runs and scores)."""
    tmp = tmp_path_factory.mktemp("runs")
    shutil.copy(RAW_CUSTOMERS_CSV, tmp / "raw.csv")
    w = DuckDBWarehouse(tmp / "w.duckdb", tmp / "raw.csv", enrich=STUDIO_ENRICH)
    w.ensure_built()
    yield w
    w.close()


@pytest.fixture(scope="module")
def model():
    return load_bundle().model


def _score(wh, model, day):
    return score_warehouse(wh, model, "ab" * 32, Economics.from_settings(), chunk_rows=4000, fit_rows=600,
                           snapshot_date=day, model_version="test-model")  # fmt: skip


def test_batch_runs_are_logged_and_other_snapshots_keep_their_scores(wh, model) -> None:
    wh.execute("DELETE FROM {scores} WHERE TRUE")
    legacy = wh.query("SELECT * FROM {customers} LIMIT 3")  # rows of a run from before scoring_runs existed
    wh.append_rows("scores", legacy[["customer_id"]].assign(
        run_id="legacy", churn_probability=0.5, risk_score=50.0, risk_tier="high", expected_profit_usd=0.0,
        clv_usd=1.0, revenue_at_risk_12m_usd=1.0, scored_at=dt.datetime.now(dt.UTC)))  # fmt: skip
    first = _score(wh, model, D1)
    second = _score(wh, model, D2)
    third = _score(wh, model, D1)  # D1 again: replaces the first run only
    kept = wh.query("SELECT run_id, COUNT(*) AS n FROM {scores} GROUP BY run_id").set_index("run_id")["n"].to_dict()
    assert kept == {second["run_id"]: 7043, third["run_id"]: 7043}
    logged = wh.query("SELECT * FROM {scoring_runs} WHERE source = 'command' ORDER BY scored_at")
    assert logged["run_id"].tolist()[-3:] == [first["run_id"], second["run_id"], third["run_id"]]
    row = logged.iloc[-1]
    assert row["model_version"] == "test-model" and row["n_rows"] == 7043
    assert runs.has_scoring_run(wh, D1) and runs.has_scoring_run(wh, D2)
    assert not runs.has_scoring_run(wh, dt.date(2020, 1, 31))
    features, scores = json.loads(row["feature_summary"]), json.loads(row["score_summary"])
    assert sum(scores["hist"]) == 7043 and features["features"]["tenure"]["count"] == 7043
    stored = wh.query("SELECT churn_probability FROM {scores} WHERE run_id = @r", {"r": third["run_id"]})
    assert scores["mean"] == pytest.approx(stored["churn_probability"].mean())
    assert features["edges_from"] == "reference"
    ids = wh.query("SELECT customer_id FROM {customers} LIMIT 200")["customer_id"]
    assert not any(cid in row["feature_summary"] for cid in ids)


def test_log_scoring_run_writes_one_row_per_call(wh) -> None:
    frame = customer_sample(wh, 50)
    p = np.linspace(0.01, 0.99, len(frame))
    before = len(wh.query("SELECT run_id FROM {scoring_runs}"))
    run_id = runs.log_scoring_run(wh, source="app", model_version="v1", snapshot_date=None, features=frame,
                                  probabilities=p)  # fmt: skip
    got = wh.query("SELECT * FROM {scoring_runs} WHERE run_id = @r", {"r": run_id})
    assert len(wh.query("SELECT run_id FROM {scoring_runs}")) == before + 1
    assert got["source"].iloc[0] == "app" and got["n_rows"].iloc[0] == 50 and got["snapshot_date"].isna().all()
    assert runs.has_scoring_run(wh, None)
    with pytest.raises(ValueError, match="source"):
        runs.log_scoring_run(wh, source="cron", model_version="v1", snapshot_date=None, features=frame,
                             probabilities=p)  # fmt: skip


def _buffer(wh, **kwargs) -> runs.RunBuffer:
    @contextlib.contextmanager
    def opened():
        yield wh

    return runs.RunBuffer(opened, "api", start=False, **kwargs)


def _api_rows(wh) -> int:
    return int(wh.query("SELECT COALESCE(SUM(n_rows), 0) AS n FROM {scoring_runs} WHERE source = 'api'")["n"].iloc[0])


def test_the_api_buffer_flushes_on_count_and_on_age_and_stays_bounded(wh) -> None:
    frame = customer_sample(wh, 30)
    p = np.full(len(frame), 0.3)
    start = _api_rows(wh)
    by_count = _buffer(wh, flush_rows=20, flush_seconds=3600)
    by_count.add("v1", frame.head(10), p[:10])
    assert not by_count.due()
    by_count.add("v1", frame.iloc[10:20], p[10:20])
    assert by_count.due()
    by_count.add("v2", frame.iloc[20:25], p[20:25])
    assert len(by_count.flush()) == 2  # one run per model version
    assert by_count.pending_rows == 0 and _api_rows(wh) == start + 25
    by_age = _buffer(wh, flush_rows=10**6, flush_seconds=1e-9)
    by_age.add("v1", frame.head(1), p[:1])
    assert by_age.due()
    bounded = _buffer(wh, flush_rows=5, max_rows=12)
    for i in range(6):
        bounded.add("v1", frame.iloc[5 * i : 5 * i + 5], p[:5])
    assert bounded.pending_rows <= 12 and bounded.dropped == 30 - bounded.pending_rows
    bounded.close()  # writes what is left
    assert bounded.pending_rows == 0 and _api_rows(wh) == start + 25 + 10


def test_a_failing_warehouse_never_grows_the_buffer(wh) -> None:
    @contextlib.contextmanager
    def broken():
        raise OSError("warehouse is locked")
        yield  # pragma: no cover

    buffer = runs.RunBuffer(broken, "api", flush_rows=1, start=False)
    buffer.add("v1", customer_sample(wh, 3), [0.1, 0.2, 0.3])
    assert buffer.flush() == [] and buffer.pending_rows == 0 and buffer.dropped == 3


def test_api_requests_are_logged_when_the_api_stops(tmp_path, monkeypatch) -> None:
    from api.main import create_app

    settings, key = api_settings(tmp_path, api_log_flush_rows=10_000, api_log_flush_seconds=3600)
    app = create_app(settings)
    bodies = real_customers(n=6)
    with TestClient(app) as client:
        headers = {"X-API-Key": key}
        for body in bodies[:2]:
            assert client.post("/v1/predict", json=body, headers=headers).status_code == 200
        answer = client.post("/v1/predict/batch", json={"customers": bodies[2:]}, headers=headers)
        assert answer.status_code == 200
        assert app.state.run_log.pending_rows == 6  # buffered, not written per request
    store = DuckDBWarehouse(settings.warehouse_path, RAW_CUSTOMERS_CSV)
    try:
        logged = store.query("SELECT * FROM {scoring_runs}")
    finally:
        store.close()
    assert logged["source"].tolist() == ["api"] and logged["n_rows"].tolist() == [6]
    version = answer.json()["model"]["version"]
    assert logged["model_version"].iloc[0] in (version, answer.json()["model"]["sha256"][:12])
    summary = json.loads(logged["score_summary"].iloc[0])
    probabilities = [p["churn_probability"] for p in answer.json()["predictions"]]
    assert sum(summary["hist"]) == 6 and summary["count"] == 6
    assert not any(b["customer_id"] in logged["feature_summary"].iloc[0] for b in bodies)
    assert isinstance(Settings(_env_file=None).api_log_flush_rows, int) and probabilities
