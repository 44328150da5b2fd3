"""The prediction API through FastAPI's test client: every route, every error answer, the same
probability as the app's and the batch scorer's, keys, rate limits and size limits."""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.deps import load_model
from api.keys import hash_api_key, match_api_key
from api.main import create_app
from api.schemas import EXAMPLE_CUSTOMER, RAW_NAME_OF_FIELD
from churn_core.cli import app as cli
from churn_core.data.schema import COLUMN_BY_NAME
from churn_core.i18n import t
from churn_core.prediction.business import Economics, recommend, risk_tier
from churn_core.prediction.retraining import sequence_model_note
from churn_core.prediction.scoring import prepare_file, score_one, score_prepared
from tests.helpers.predict_api import api_settings, raw_file_bytes, real_customers

pytestmark = pytest.mark.api

#: Real customers: the documented example, a tenure-0 customer with a blank TotalCharges, seniors.
IDS = ["3668-QPYBK", "4472-LVYGI", "9237-HQITU", "7590-VHVEG", "8779-QRDMV", "0280-XJGEX", "1452-KIOVK"]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings, key = api_settings(tmp_path_factory.mktemp("api"), api_max_batch=5)
    client = TestClient(create_app(settings))
    client.headers["X-API-Key"] = key
    return client


def test_one_customer_gets_the_same_probability_as_the_app_and_the_batch_scorer(api) -> None:
    customers = real_customers(IDS)
    assert len(customers) == len(IDS) and any(c["total_charges"] is None for c in customers)
    served = load_model(api.app.state.settings)
    economics = Economics.from_settings(api.app.state.settings)
    uploaded = prepare_file(raw_file_bytes(IDS), source="upload.csv").customers  # the app's upload path
    batch = score_prepared(served.model, uploaded, economics).set_index("customer_id")  # churn-studio score's scorer
    explainer = served.explainer()
    for customer in customers:
        got = api.post("/v1/predict", json=customer, params={"explain": "true"}).json()
        row = uploaded[uploaded["customer_id"] == customer["customer_id"]].iloc[0]  # id and model features
        app_scored, _ = score_one(served.model, row, explainer, economics)  # the app's single-customer view
        assert abs(got["churn_probability"] - app_scored["churn_probability"]) <= 1e-9
        assert abs(got["churn_probability"] - batch.loc[customer["customer_id"], "churn_probability"]) <= 1e-9
        assert got["drivers_up"] == [d for d in app_scored["drivers_up"].split("|") if d]
        assert [a["code"] for a in got["actions"]] == [a for a in app_scored["actions"].split("|") if a]
        plain = api.post("/v1/predict", json=customer).json()
        assert plain["churn_probability"] == got["churn_probability"] and plain["explained"] is False
    body = api.post("/v1/predict/batch", json={"customers": customers[:5]}).json()
    for item in body["predictions"]:
        assert abs(item["churn_probability"] - batch.loc[item["customer_id"], "churn_probability"]) <= 1e-9


def test_a_prediction_has_score_tier_actions_and_model_version(api) -> None:
    resp = api.post("/v1/predict", json=EXAMPLE_CUSTOMER, params={"lang": "en"})
    assert resp.status_code == 200, resp.text
    got = resp.json()
    p = got["churn_probability"]
    assert 0 <= p <= 1 and got["risk_score"] == round(100 * p) and got["risk_tier"] == risk_tier([p])[0]
    assert got["contact"] == (got["expected_profit_usd"] > 0)
    assert got["drivers_up"] is None and got["drivers_down"] is None and got["explained"] is False
    features = {**EXAMPLE_CUSTOMER, "n_services": 0}
    assert [a["code"] for a in got["actions"]] == recommend(features)  # every action whose condition holds
    assert all(a["text"] == t(f"action.{a['code']}", "en") for a in got["actions"]) and got["actions"]
    card = load_model(api.app.state.settings).ref
    assert got["model"] == card and len(card["sha256"]) == 64 and card["version"]
    korean = api.post("/v1/predict", json=EXAMPLE_CUSTOMER).json()  # default: the settings' language (ko)
    assert korean["actions"][0]["text"] == t(f"action.{korean['actions'][0]['code']}", "ko")


def test_every_invalid_field_is_named_with_its_reason(api) -> None:
    bad = {**EXAMPLE_CUSTOMER, "tenure": -1, "contract": "Two-year", "monthly_charges": "lots", "age": 12.5,
           "churn": "Yes"}  # fmt: skip
    del bad["gender"]
    resp = api.post("/v1/predict", json=bad)
    assert resp.status_code == 422
    errors = {tuple(e["loc"]): e for e in resp.json()["detail"]}
    assert set(errors) == {("body", f) for f in ("gender", "tenure", "contract", "monthly_charges", "age", "churn")}
    assert errors[("body", "gender")]["type"] == "missing"
    assert errors[("body", "tenure")]["type"] == "greater_than_equal"
    assert "Two year" in errors[("body", "contract")]["msg"]
    assert errors[("body", "churn")]["type"] == "extra_forbidden"  # the target (leakage) is refused, not ignored
    nan = json.dumps({**EXAMPLE_CUSTOMER, "monthly_charges": math.nan})  # Python's json writes NaN
    resp = api.post("/v1/predict", content=nan, headers={"content-type": "application/json"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "monthly_charges"]
    for body in ("{not json", "[]", "null"):
        assert api.post("/v1/predict", content=body, headers={"content-type": "application/json"}).status_code == 422


def test_the_upload_rules_across_fields_and_customers_apply_too(api) -> None:
    unbilled = {**EXAMPLE_CUSTOMER, "customer_id": "B-1", "total_charges": None}  # blank total with tenure 2
    resp = api.post("/v1/predict/batch", json={"customers": [EXAMPLE_CUSTOMER, unbilled, EXAMPLE_CUSTOMER]})
    assert resp.status_code == 422
    locs = {(tuple(e["loc"]), e["type"]) for e in resp.json()["detail"]}
    assert locs == {
        (("body", "customers", 1, "total_charges"), "blank_total_charges"),
        (("body", "customers", 0, "customer_id"), "duplicate"),
        (("body", "customers", 2, "customer_id"), "duplicate"),
    }
    new = {**unbilled, "tenure": 0}  # allowed, as in a file: not billed yet
    assert api.post("/v1/predict", json=new).status_code == 200


def test_batch_size_and_body_size_are_limited(api) -> None:
    many = [{**EXAMPLE_CUSTOMER, "customer_id": f"C-{i}"} for i in range(6)]  # api_max_batch is 5
    resp = api.post("/v1/predict/batch", json={"customers": many})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "customers"]
    assert "at most 5" in resp.json()["detail"][0]["msg"]
    assert api.post("/v1/predict/batch", json={"customers": []}).status_code == 422
    body = api.post("/v1/predict/batch", json={"customers": many[:5]}).json()
    assert [p["customer_id"] for p in body["predictions"]] == [f"C-{i}" for i in range(5)]
    padded = json.dumps({**EXAMPLE_CUSTOMER, "customer_id": "x" * 20_000})
    assert api.post("/v1/predict", content=padded, headers={"content-type": "application/json"}).status_code == 413
    big = json.dumps({"customers": many * 600})  # > api_max_body_bytes (2 MiB)
    assert len(big) > 2 * 2**20
    assert api.post("/v1/predict/batch", content=big, headers={"content-type": "application/json"}).status_code == 413


def test_keys_are_required_checked_by_digest_and_revocable(tmp_path) -> None:
    settings, key = api_settings(tmp_path, api_revoked_keys=["old"])
    old_key = "cs_" + "o" * 43
    settings = settings.model_copy(update={"api_keys": {**settings.api_keys, "old": hash_api_key(old_key)}})
    client = TestClient(create_app(settings))
    for headers in ({}, {"X-API-Key": "cs_wrong"}, {"X-API-Key": old_key}, {"X-API-Key": settings.api_keys["tests"]}):
        resp = client.get("/v1/model", headers=headers)  # nor does the stored digest work as a key
        assert resp.status_code == 401 and resp.headers["www-authenticate"] == "ApiKey"
        assert client.post("/v1/predict", json=EXAMPLE_CUSTOMER, headers=headers).status_code == 401
    assert client.get("/v1/model", headers={"X-API-Key": key}).status_code == 200
    assert match_api_key(key, settings.api_keys) == "tests" and match_api_key(old_key, settings.api_keys) == "old"
    nobody = TestClient(create_app(api_settings(tmp_path, api_keys={})[0]))
    resp = nobody.get("/v1/model", headers={"X-API-Key": key})
    assert resp.status_code == 401 and "churn-studio api-key" in resp.json()["detail"]


def test_each_key_has_its_own_rate_limit(tmp_path) -> None:
    settings, key = api_settings(tmp_path, api_rate_limit="2/minute")
    other = "cs_" + "b" * 43
    settings = settings.model_copy(update={"api_keys": {**settings.api_keys, "other": hash_api_key(other)}})
    client = TestClient(create_app(settings))
    codes = [client.get("/v1/model", headers={"X-API-Key": key}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = client.post("/v1/predict", json=EXAMPLE_CUSTOMER, headers={"X-API-Key": key})
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    assert client.get("/v1/model", headers={"X-API-Key": other}).status_code == 200
    per_key = api_settings(tmp_path, api_rate_limit="1/minute", api_key_rate_limits={"tests": "3/minute"})
    client = TestClient(create_app(per_key[0]))
    assert [client.get("/v1/model", headers={"X-API-Key": per_key[1]}).status_code for _ in range(4)] == [
        200, 200, 200, 429]  # fmt: skip


def test_model_card_and_health(api) -> None:
    card = api.get("/v1/model").json()
    served = load_model(api.app.state.settings)
    assert card["model"] == served.ref and card["features"] == list(served.model.features)
    assert card["card"] == json.loads(json.dumps({**served.bundle.card, "sequence_model": sequence_model_note()}))
    health = api.get("/health", headers={"X-API-Key": ""}).json()  # no key needed
    assert health == {"status": "ok", "champion_loaded": True, "model": served.ref, "model_error": None}


def test_without_a_model_health_says_so_and_predictions_are_503(tmp_path) -> None:
    settings, key = api_settings(tmp_path, models_dir=tmp_path / "no-models", registry_dir=tmp_path / "registry")
    client = TestClient(create_app(settings))
    assert client.get("/health").json()["champion_loaded"] is False
    resp = client.post("/v1/predict", json=EXAMPLE_CUSTOMER, headers={"X-API-Key": key})
    assert resp.status_code == 503 and "churn-studio train" in resp.json()["detail"] and resp.headers["retry-after"]
    health = client.get("/health").json()
    assert health["champion_loaded"] is False and health["model_error"] and "no-models" not in health["model_error"]


def test_the_openapi_document_declares_the_schema_and_the_key(api) -> None:
    spec = api.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/predict/batch", "/v1/model", "/health"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["ApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    customer = spec["components"]["schemas"]["Customer"]
    assert customer["required"] == [f for f in RAW_NAME_OF_FIELD if f != "total_charges"]
    assert customer["additionalProperties"] is False
    assert customer["properties"]["contract"]["enum"] == list(COLUMN_BY_NAME["contract"].allowed)
    tenure = customer["properties"]["tenure"]
    assert (tenure["minimum"], tenure["maximum"]) == (COLUMN_BY_NAME["tenure"].ge, COLUMN_BY_NAME["tenure"].le)
    assert api.get("/docs").status_code == 404  # no Swagger UI from a CDN


def test_api_key_command_prints_a_key_and_only_its_digest() -> None:
    result = CliRunner().invoke(cli, ["api-key", "crm"], terminal_width=400)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    key = next(line for line in lines if line.startswith("cs_"))
    entry = next(line for line in lines if line.startswith("CHURN_API_KEYS="))
    stored = json.loads(entry.split("=", 1)[1].strip("'"))
    assert stored == {"crm": hash_api_key(key)} and key not in entry
    assert match_api_key(key, stored) == "crm"
