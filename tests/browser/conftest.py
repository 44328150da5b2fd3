"""A real ``streamlit run app.py`` (what ``make run`` serves) on 127.0.0.1 and a real headless Chromium.

The driver is Debian's ``/usr/bin/chromedriver`` passed as a Service
(:func:`scrapers.driver.make_driver`), so Selenium Manager never tries to download
anything. Screenshots go to ``$TEST_ARTIFACTS_DIR`` (default
``test-artifacts/``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from churn_core.config import PROJECT_ROOT
from scrapers.driver import make_driver
from tests.helpers.apptest import accounts_json
from tests.helpers.servers import free_port, serving

START_TIMEOUT_S = 60


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS_DIR", PROJECT_ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def app_url(isolated_warehouse_path, artifacts_dir) -> Iterator[str]:
    port = free_port()
    log_path = artifacts_dir / "streamlit.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    # The server gets a warehouse file of its own: DuckDB lets one process write a file,
    # and this test process holds the session's warehouse open.
    # It also gets the test accounts (tests.helpers.apptest) that tests sign in with through the form.
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(Path(isolated_warehouse_path).with_name("browser.duckdb"))}
    env["CHURN_STAFF_USERS"] = accounts_json()
    url = f"http://127.0.0.1:{port}"
    try:
        with serving(cmd, f"{url}/_stcore/health", "streamlit", START_TIMEOUT_S, log_path, cwd=PROJECT_ROOT, env=env):
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def driver(artifacts_dir) -> Iterator[webdriver.Chrome]:
    try:
        drv = make_driver()
    except FileNotFoundError as exc:
        pytest.fail(f"{exc}: run `make test`, which installs Debian chromium and chromium-driver")
    try:
        yield drv
    finally:
        drv.quit()
