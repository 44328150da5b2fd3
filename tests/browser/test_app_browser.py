"""The served app in a real browser: KPIs appear, EDA charts render, no error element."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.helpers.browser import wait

pytestmark = pytest.mark.browser

ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def _chart_titles(driver) -> list[str]:
    return [el.text for el in driver.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .gtitle")]


def test_home_shows_kpis(driver, app_url, artifacts_dir) -> None:
    driver.get(app_url)
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricValue"]')) >= 4)
    values = [el.text for el in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricValue"]')]
    assert "7,043" in values and "26.5%" in values and "41.7%" in values
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".js-plotly-plot")))
    driver.save_screenshot(str(artifacts_dir / "home.png"))
    assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)


def test_eda_page_renders_charts(driver, app_url, artifacts_dir) -> None:
    driver.get(f"{app_url}/eda")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg")) >= 2)
    wait(driver).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, '[data-testid="stMainBlockContainer"]'), "26.5%")
    )
    driver.save_screenshot(str(artifacts_dir / "eda.png"))
    assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)
    tabs = driver.find_elements(By.CSS_SELECTOR, '[role="tab"]')
    assert len(tabs) == 7
    tabs[2].click()  # tenure and age
    wait(driver).until(lambda d: any(p.is_displayed() for p in d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")))
    driver.save_screenshot(str(artifacts_dir / "eda_tenure.png"))
    assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)
