"""The API's log lines: JSON with each request's context, the 500 answer of an unexpected error, and
no API key, token or personal data, through FastAPI's test client and through a real uvicorn process."""

from __future__ import annotations

import json
import os
import sys

import pytest
import requests
from fastapi.testclient import TestClient

from api.keys import generate_api_key, hash_api_key
from api.main import create_app
from api.schemas import EXAMPLE_CUSTOMER
from churn_core.config import PROJECT_ROOT
from churn_core.logs import reset_logging, setup_logging
from churn_core.outreach.unsubscribe import mint
from tests.helpers.predict_api import api_settings
from tests.helpers.servers import free_port, serving

pytestmark = pytest.mark.api

EMAIL = "lee.jiwoo@example.co.kr"
PHONE = "010-9876-5432"
TIMEOUT = 30  # seconds per request


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_an_unexpected_error_is_logged_with_its_request_context_and_answered_500(tmp_path) -> None:
    settings, key = api_settings(tmp_path, log_dir=tmp_path / "logs", registry_dir=tmp_path / "registry")
    token = mint("3668-QPYBK", settings.unsubscribe_secret.get_secret_value())
    wrong_key = generate_api_key()
    setup_logging("api", settings)
    try:
        app = create_app(settings)

        @app.get("/boom")
        def boom() -> None:
            raise RuntimeError(f"lookup failed for {EMAIL} ({PHONE})")

        with TestClient(app, raise_server_exceptions=False) as client:  # the lifespan loads the champion
            ok = client.post("/v1/predict", json={**EXAMPLE_CUSTOMER, "customer_id": EMAIL}, headers={"X-API-Key": key})
            assert ok.status_code == 200, ok.text
            extra = client.post("/v1/predict", json={**EXAMPLE_CUSTOMER, "phone": PHONE}, headers={"X-API-Key": key})
            assert extra.status_code == 422
            assert client.get("/v1/model", headers={"X-API-Key": wrong_key}).status_code == 401
            assert client.get("/optout", params={"token": token}).status_code == 200
            assert client.get("/optout", params={"token": token[:-3] + "AAA"}).status_code == 400  # logged refusal
            failed = client.get("/boom")
    finally:
        reset_logging()
    assert failed.status_code == 500 and failed.json()["detail"] == "internal server error"
    assert failed.headers["x-content-type-options"] == "nosniff"  # the security headers wrap the 500 too
    text = (tmp_path / "logs" / "api.log").read_text(encoding="utf-8")
    for secret in (key, wrong_key, EMAIL, PHONE, token, settings.unsubscribe_secret.get_secret_value()):
        assert secret not in text
    lines = _lines(text)
    assert lines and all(line["component"] == "api" for line in lines)
    error = next(line for line in lines if line["level"] == "ERROR" and line["message"].endswith("GET /boom"))
    assert error["run_id"] == failed.json()["run_id"] and error["route"] == "/boom"
    assert error["model_version"] == ok.json()["model"]["version"]
    assert "RuntimeError: lookup failed for [redacted] ([redacted])" in error["exception"]
    refused = next(line for line in lines if line["message"].startswith("unsubscribe token refused"))
    assert refused["route"] == "/optout" and refused["run_id"] and refused["run_id"] != error["run_id"]


def test_the_served_api_writes_json_lines_through_uvicorn_without_tokens_keys_or_personal_data(tmp_path) -> None:
    port, key, wrong_key = free_port(), generate_api_key(), generate_api_key()
    secret = "api-logs-test-signing-key-not-secret-" + "s" * 12
    token = mint("3668-QPYBK", secret)
    env = {
        **os.environ,
        "CHURN_LOG_DIR": str(tmp_path / "logs"),
        "CHURN_REGISTRY_DIR": str(tmp_path / "registry"),
        "CHURN_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "CHURN_UNSUBSCRIBE_SECRET": secret,
        "CHURN_API_HOST": "127.0.0.1",
        "CHURN_API_PORT": str(port),
        "CHURN_API_KEYS": json.dumps({"tests": hash_api_key(key)}),
    }
    url = f"http://127.0.0.1:{port}"
    console = tmp_path / "stderr.log"
    with serving([sys.executable, "-m", "api"], f"{url}/healthz", "API", timeout_s=90, log_path=console, env=env,
                 cwd=PROJECT_ROOT):  # fmt: skip
        assert requests.get(f"{url}/optout", params={"token": token}, timeout=TIMEOUT).status_code == 200
        body = {**EXAMPLE_CUSTOMER, "customer_id": EMAIL}
        got = requests.post(f"{url}/v1/predict", json=body, headers={"X-API-Key": key}, timeout=TIMEOUT)
        assert got.status_code == 200, got.text
        bad = requests.post(f"{url}/v1/predict", json={**body, "phone": PHONE}, headers={"X-API-Key": key},
                            timeout=TIMEOUT)  # fmt: skip
        assert bad.status_code == 422
        assert requests.get(f"{url}/v1/model", headers={"X-API-Key": wrong_key}, timeout=TIMEOUT).status_code == 401
    text = (tmp_path / "logs" / "api.log").read_text(encoding="utf-8")
    for leaked in (key, wrong_key, EMAIL, PHONE, token, secret):
        assert leaked not in text and leaked not in console.read_text(encoding="utf-8")
    lines = _lines(text)  # uvicorn's lines too: every line is JSON
    assert lines and all(line["component"] == "api" for line in lines)
    assert any(line["logger"] == "uvicorn.error" and "startup complete" in line["message"] for line in lines)
    access = [line["message"] for line in lines if line["logger"] == "uvicorn.access"]
    assert any("GET /optout?token=[redacted] HTTP/1.1" in message and message.endswith(" 200") for message in access), (
        access
    )
    assert any('"GET /v1/model HTTP/1.1" 401' in message for message in access), access
