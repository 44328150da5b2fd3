"""A real ``streamlit run`` on 127.0.0.1 and a real headless Chromium driven by Selenium.

The driver is Debian's ``/usr/bin/chromedriver`` passed as a Service
(:func:`scrapers.driver.make_driver`), so Selenium Manager never tries to download
anything. Screenshots go to ``$TEST_ARTIFACTS_DIR`` (default
``test-artifacts/``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from churn_core.config import PROJECT_ROOT
from scrapers.driver import make_driver

START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS_DIR", PROJECT_ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def app_url(isolated_warehouse_path, artifacts_dir) -> Iterator[str]:
    port = _free_port()
    log = (artifacts_dir / "streamlit.log").open("w")
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "Home.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    # The server gets a warehouse file of its own: DuckDB lets one process write a file,
    # and this test process holds the session's warehouse open.
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(Path(isolated_warehouse_path).with_name("browser.duckdb"))}
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within {START_TIMEOUT_S} s")
            time.sleep(0.25)  # polling a subprocess, not a page: no WebDriverWait here
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
