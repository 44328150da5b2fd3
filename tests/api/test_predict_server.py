"""The prediction API through a real uvicorn process (``churn-studio api``) on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import requests

from api.keys import generate_api_key, hash_api_key
from churn_core.config import PROJECT_ROOT
from tests.helpers.predict_api import real_customers
from tests.helpers.servers import free_port, serving

pytestmark = pytest.mark.api
TIMEOUT = 30  # seconds per request


def test_churn_studio_api_serves_predictions_on_loopback(tmp_path) -> None:
    port, key = free_port(), generate_api_key()
    env = {
        **os.environ,
        "CHURN_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "CHURN_UNSUBSCRIBE_SECRET": "api-server-test-key-not-secret-" + "x" * 16,
        "CHURN_API_PORT": str(port),
        "CHURN_API_KEYS": f'{{"tests": "{hash_api_key(key)}"}}',
        "CHURN_API_RATE_LIMIT": "3/minute",
    }
    env.pop("CHURN_API_HOST", None)  # the default: 127.0.0.1
    cmd = [str(Path(sys.executable).with_name("churn-studio")), "api"]
    url = f"http://127.0.0.1:{port}"
    with serving(cmd, f"{url}/health", "churn-studio api", timeout_s=90, log_path=tmp_path / "api.log", env=env,
                 cwd=PROJECT_ROOT):  # fmt: skip
        health = requests.get(f"{url}/health", timeout=TIMEOUT).json()
        assert health["status"] == "ok" and health["champion_loaded"] is True  # loaded at start-up
        customer = real_customers(["3668-QPYBK"])[0]
        got = requests.post(f"{url}/v1/predict", json=customer, headers={"X-API-Key": key}, timeout=TIMEOUT)
        assert got.status_code == 200 and got.json()["model"] == health["model"]
        assert got.headers["x-content-type-options"] == "nosniff" and "server" not in got.headers
        bad = requests.post(f"{url}/v1/predict", json={**customer, "tenure": "two"}, headers={"X-API-Key": key},
                            timeout=TIMEOUT)  # fmt: skip
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "tenure"]
        assert requests.get(f"{url}/v1/model", timeout=TIMEOUT).status_code == 401
        card = requests.get(f"{url}/v1/model", headers={"X-API-Key": key}, timeout=TIMEOUT)
        assert card.status_code == 200 and card.json()["model"] == health["model"]  # the key's 3rd request
        limited = requests.get(f"{url}/v1/model", headers={"X-API-Key": key}, timeout=TIMEOUT)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1  # its 4th: over 3/minute
        assert "/v1/predict" in requests.get(f"{url}/openapi.json", timeout=TIMEOUT).json()["paths"]
        with pytest.raises(requests.ConnectionError):  # loopback only
            requests.get(f"http://{_outward_address()}:{port}/health", timeout=5)


def _outward_address() -> str:
    """This machine's address on its default route (not loopback)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for a UDP connect
        return sock.getsockname()[0]
