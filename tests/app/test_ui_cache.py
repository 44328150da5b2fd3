"""The one cache helper of ``ui``: results are kept per data version, and per model version where they use the model."""

from __future__ import annotations

import uuid

import pytest

from ui import data

pytestmark = pytest.mark.app

CALLS: dict[str, list[tuple]] = {}  # per test run (keyed by a fresh salt): nothing is shared between tests


def _counted(salt: str, x: int, y: int = 0) -> int:
    CALLS.setdefault(salt, []).append((x, y))
    return x + y


@pytest.fixture
def versions(monkeypatch) -> dict[str, str]:
    current = {"data": "d1", "model": "m1", "salt": uuid.uuid4().hex}
    monkeypatch.setattr(data, "data_version", lambda: current["data"])
    monkeypatch.setattr(data, "model_version", lambda: current["model"])
    return current


@pytest.mark.parametrize("resource", [False, True])
def test_a_new_model_or_new_data_is_never_served_from_an_old_entry(versions, resource) -> None:
    salt = versions["salt"]
    assert data.cached(_counted, salt, 1, y=2, resource=resource, model=True) == 3
    assert data.cached(_counted, salt, 1, y=2, resource=resource, model=True) == 3
    assert CALLS[salt] == [(1, 2)]  # cached
    versions["model"] = "m2"  # retrained model: recomputed (the explainer of the new model)
    data.cached(_counted, salt, 1, y=2, resource=resource, model=True)
    versions["data"] = "d2"  # rebuilt warehouse: recomputed
    data.cached(_counted, salt, 1, y=2, resource=resource, model=True)
    data.cached(_counted, salt, 5, resource=resource, model=True)  # other arguments: their own entry
    assert CALLS[salt] == [(1, 2), (1, 2), (1, 2), (5, 0)]


def test_results_that_do_not_use_the_model_survive_a_retrain(versions) -> None:
    salt = versions["salt"]
    data.cached(_counted, salt, 1)
    versions["model"] = "m2"
    data.cached(_counted, salt, 1)  # EDA queries, survival and segments are not refitted
    assert CALLS[salt] == [(1, 0)]
    versions["data"] = "d2"
    data.cached(_counted, salt, 1)
    assert CALLS[salt] == [(1, 0), (1, 0)]


def test_the_model_version_is_the_model_files_hash(tmp_path, monkeypatch) -> None:
    from churn_core.data.loading import file_sha256

    model = tmp_path / "churn_ensemble.skops"
    monkeypatch.setattr(data, "model_path", lambda: model)
    assert data.model_version() == "none"
    model.write_bytes(b"first model")
    first = data.model_version()
    assert first == file_sha256(model)
    model.write_bytes(b"second model, retrained")
    assert data.model_version() == file_sha256(model) != first


def test_at_risk_list_follows_a_batch_run_that_finishes_while_the_app_is_open(tmp_path, monkeypatch) -> None:
    from churn_core.config import get_settings
    from churn_core.prediction import at_risk
    from churn_core.prediction.batch import score_warehouse

    monkeypatch.setenv("CHURN_WAREHOUSE_PATH", str(tmp_path / "own.duckdb"))  # a warehouse of this test only
    get_settings.cache_clear()
    try:
        from_scores = []
        original = at_risk.at_risk_seniors_from_scores
        monkeypatch.setattr(
            at_risk, "at_risk_seniors_from_scores", lambda *a, **k: from_scores.append(a[1]) or original(*a, **k)
        )
        before = data.at_risk_senior_scores()
        assert from_scores == [] and len(before) > 0  # no batch run yet: scored on the sample
        assert data.at_risk_senior_scores().equals(before)  # cached
        run = score_warehouse(data.warehouse(), data.model_bundle().model, data.model_version(), chunk_rows=4000)
        after = data.at_risk_senior_scores()
        assert from_scores == [run["run_id"]]  # the next rerun reads the run's stored scores
        assert set(after["customer_id"]) == set(before["customer_id"])
    finally:
        get_settings.cache_clear()
