"""The API serves the registry's champion and switches to a newly promoted one without a restart."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.schemas import EXAMPLE_CUSTOMER
from churn_core.prediction import registry
from churn_core.prediction.retraining import sequence_model_note
from tests.helpers.predict_api import api_settings
from tests.helpers.registry import no_compiling, tiny_bundle


@pytest.fixture(scope="module")
def challenger_dir(tmp_path_factory, customers):
    return tiny_bundle(tmp_path_factory.mktemp("challenger"), customers, seed=2)


def test_the_api_answers_with_the_champion_after_promote_and_rollback(tmp_path, monkeypatch, challenger_dir) -> None:
    no_compiling(monkeypatch)
    settings, key = api_settings(tmp_path, registry_dir=tmp_path / "registry")
    client = TestClient(create_app(settings))
    client.headers["X-API-Key"] = key
    first = registry.champion_version(settings)
    card = client.get("/v1/model").json()
    assert card["model"]["version"] == first and card["card"]["sequence_model"] == sequence_model_note()
    before = client.post("/v1/predict", json=EXAMPLE_CUSTOMER).json()
    assert before["model"]["version"] == first and client.get("/health").json()["model"]["version"] == first

    new = registry.register(challenger_dir, settings, trained_on=["2019-09-30"])
    registry.promote(new, "test", settings)
    health = client.get("/health").json()  # no key; reloads because the champion pointer changed
    assert health["champion_loaded"] and health["model"]["version"] == new and health["model_error"] is None
    after = client.post("/v1/predict", json=EXAMPLE_CUSTOMER).json()
    assert after["model"]["version"] == new and after["model"]["sha256"] == registry.champion_info(settings)[
        "model_sha256"]  # fmt: skip
    assert after["churn_probability"] != before["churn_probability"]  # another model scored
    assert client.get("/v1/model").json()["model"]["version"] == new
    batch = client.post("/v1/predict/batch", json={"customers": [EXAMPLE_CUSTOMER]}).json()
    assert batch["model"]["version"] == new

    registry.rollback(settings)
    again = client.post("/v1/predict", json=EXAMPLE_CUSTOMER).json()
    assert again["model"]["version"] == first and again["churn_probability"] == before["churn_probability"]
