"""The one-click opt-out works while the app is open: one process serves both, on the embedded DuckDB file.

DuckDB lets one process at a time hold the file. A separate API process could not write while
the Streamlit app held it; ``app.py`` mounts the API in the app's process, sharing its warehouse.
"""

from __future__ import annotations

import os
import secrets
import sys

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from churn_core.config import PROJECT_ROOT, RAW_CUSTOMERS_CSV
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.outreach import unsubscribe
from tests.helpers.browser import wait
from tests.helpers.servers import free_port, serving

pytestmark = pytest.mark.browser

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
BUILD_WAIT_S = 360


def test_one_click_opt_out_is_recorded_while_the_app_holds_the_warehouse(driver, tmp_path, artifacts_dir) -> None:
    port, key = free_port(), secrets.token_urlsafe(40)
    warehouse_path = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(warehouse_path), "CHURN_UNSUBSCRIBE_SECRET": key}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"), "--server.address", "127.0.0.1",
        "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    token = unsubscribe.mint("7590-VHVEG", key, "email", "camp-in-app")
    log = artifacts_dir / "optout_app.log"
    with serving(cmd, f"{url}/_stcore/health", "streamlit app.py", 60, log, cwd=PROJECT_ROOT, env=env):
        driver.get(url)  # the app opens the warehouse (and keeps DuckDB's one read-write connection)
        # a fresh warehouse: the first visit builds it (validation, EDA aggregates, page analytics), which
        # takes minutes on a busy 2-core machine
        wait(driver, BUILD_WAIT_S).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid='stMetricValue']"))
        )
        page = requests.get(f"{url}/api/optout", params={"token": token}, timeout=30)
        assert page.status_code == 200 and "<form" in page.text  # the confirmation page, nothing recorded yet
        answer = requests.post(f"{url}/api/optout", params={"token": token}, data=ONE_CLICK, timeout=30)
        assert answer.status_code == 200, answer.text
    wh = DuckDBWarehouse(warehouse_path, RAW_CUSTOMERS_CSV)  # the server has stopped: read what it wrote
    try:
        events = wh.query("SELECT * FROM {consent_events} WHERE customer_id = '7590-VHVEG'")
    finally:
        wh.close()
    assert list(events["event"]) == ["withdrawn"] and list(events["source"]) == ["unsubscribe_link"]
