"""Fixtures of the API tests: the real API (``python -m api``, uvicorn) on a free 127.0.0.1 port
against a throw-away DuckDB warehouse, and a local SMTP server with STARTTLS."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from churn_core.config import PROJECT_ROOT
from tests.helpers.hostile import HOSTILE_PHONE, HOSTILE_PRIVACY_URL
from tests.helpers.servers import free_port, serving
from tests.helpers.smtp import running_smtp


@dataclass(frozen=True)
class RunningApi:
    url: str
    warehouse_path: Path
    secret: str
    log_path: Path


@pytest.fixture(scope="module")
def api_server(tmp_path_factory) -> Iterator[RunningApi]:
    """``python -m api`` (the command ``make api`` runs), settings from the environment as in production."""
    tmp = tmp_path_factory.mktemp("api")
    port, secret = free_port(), secrets.token_urlsafe(40)
    env = {
        **os.environ,
        "CHURN_WAREHOUSE_BACKEND": "duckdb",
        "CHURN_WAREHOUSE_PATH": str(tmp / "warehouse.duckdb"),
        "CHURN_UNSUBSCRIBE_SECRET": secret,
        "CHURN_API_HOST": "127.0.0.1",
        "CHURN_API_PORT": str(port),
        "CHURN_OPT_OUT_PHONE": HOSTILE_PHONE,
        "CHURN_PRIVACY_URL": HOSTILE_PRIVACY_URL,
    }
    url = f"http://127.0.0.1:{port}"
    log = tmp / "api.log"
    cmd = [sys.executable, "-m", "api"]
    with serving(cmd, f"{url}/healthz", "API", timeout_s=60, log_path=log, env=env, cwd=PROJECT_ROOT):
        yield RunningApi(url, tmp / "warehouse.duckdb", secret, log)


@pytest.fixture
def smtp_server():
    """aiosmtpd on a free 127.0.0.1 port requiring STARTTLS (tests.helpers.smtp)."""
    with running_smtp() as server:
        yield server
