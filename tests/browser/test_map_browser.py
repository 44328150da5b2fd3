"""The map page in headless Chromium: the markers layer draws from the app's own assets."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.helpers.browser import wait

pytestmark = pytest.mark.browser

MAP_FRAME = (By.CSS_SELECTOR, 'iframe[title*="st_folium"], iframe[src*="streamlit_folium"]')


def test_map_page_draws_markers_without_a_cdn(driver, app_url, artifacts_dir) -> None:
    driver.get(f"{app_url}/map")
    wait(driver).until(ec.frame_to_be_available_and_switch_to_it(MAP_FRAME))
    try:
        # clusters and single markers of the FastMarkerCluster layers, and the legend
        wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".marker-cluster, .studio-pin")) >= 5)
        assert driver.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane path")  # 구 boundaries
        assert driver.execute_script("return typeof L.markerClusterGroup") == "function"
        assert driver.execute_script("return typeof L.control.locate") == "function"
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        scripts = [r for r in resources if r.endswith((".js", ".css"))]
        assert any("/app/static/vendor/leaflet.js" in r for r in scripts)
        assert not [r for r in scripts if not r.startswith(app_url)], "map assets must come from the app"
        legend = driver.find_element(By.XPATH, "//*[contains(text(), '범례')]")
        assert legend.is_displayed()
    finally:
        driver.switch_to.default_content()
    driver.save_screenshot(str(artifacts_dir / "map.png"))
