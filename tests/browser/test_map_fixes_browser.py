"""What users hit on the map in a real browser (#16), against ``streamlit run app.py``:
a metric-only scale, the "my location" pin's images served (200), an approximate position
drawn as its area with distance bands, a click over a cluster that sets the location, a 구
choice that zooms the map to it, and a browser location that gives up with a message.
The fixed map is saved as ``map_fixed.png``."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import (
    ElementNotInteractableException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from churn_core.i18n import t
from tests.helpers.browser import OPEN_TOOLTIPS, wait
from ui.map import GEOLOCATION_TIMEOUT_S

pytestmark = pytest.mark.browser

MAP_FRAME = (By.CSS_SELECTOR, 'iframe[title*="st_folium"], iframe[src*="streamlit_folium"]')
TABLES = '[data-testid="stDataFrame"]'
ERRORS = '[data-testid="stException"]'

_STATUS = """
const done = arguments[arguments.length - 1];
Promise.all(arguments[0].map(u => fetch(u).then(r => r.status, () => 0))).then(done);
"""
_IMAGES = """
return [...document.querySelectorAll('.awesome-marker, .awesome-marker-shadow')]
    .map(e => getComputedStyle(e).backgroundImage);
"""
_VIEW = "const b = window.map.getBounds(); return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast(), window.map.getZoom()];"  # noqa: E501
_CENTRAL_CLUSTER = """
const map = document.querySelector('.leaflet-container');
if (!map) return null;
const box = map.getBoundingClientRect();
const cx = box.left + box.width / 2, cy = box.top + box.height / 2;
const clusters = [...document.querySelectorAll('.marker-cluster')].map(e => [e, e.getBoundingClientRect()])
    .filter(([e, r]) => r.width > 0 && r.left > box.left + 60 && r.right < box.right - 260 && r.top > box.top + 60
            && r.bottom < box.bottom - 200);
clusters.sort((a, b) => Math.hypot(a[1].x - cx, a[1].y - cy) - Math.hypot(b[1].x - cx, b[1].y - cy));
return clusters.length ? clusters[0][0] : null;
"""


def _open_map(driver, app_url) -> None:
    driver.switch_to.default_content()
    driver.get(f"{app_url}/map")
    wait(driver).until(ec.presence_of_element_located(MAP_FRAME))


def _km_tooltips(driver) -> list[str] | None:
    """Texts of the map's distance tooltips (all opened), or None while there are none yet."""
    return [x for x in (_in_map(driver, OPEN_TOOLTIPS) or []) if x.endswith(" km")] or None


def _in_map(driver, script: str, *args):
    """Run ``script`` in the map's iframe (found again: each rerun may draw a new one); None while absent."""
    driver.switch_to.default_content()
    frames = driver.find_elements(*MAP_FRAME)
    if not frames:
        return None
    try:
        driver.switch_to.frame(frames[0])
        return driver.execute_script(f"if (!window.map) return null; {script}", *args)
    finally:
        driver.switch_to.default_content()


def _choose_mode(driver, mode: str) -> None:
    label = t(f"map.mode_{mode}", "ko")
    option = wait(driver).until(
        lambda d: d.find_element(By.XPATH, f'//section[@data-testid="stSidebar"]//label[contains(., "{label}")]')
    )
    option.click()


def test_approximate_address_map_scale_and_pin_images(driver, app_url, artifacts_dir) -> None:
    _open_map(driver, app_url)
    label = t("map.address", "ko")
    box = wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, f'input[aria-label="{label}"]'))
    box.send_keys("서울 은평구 통일로 684", Keys.ENTER)
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, TABLES)) == 2)
    tooltips = wait(driver).until(_km_tooltips)
    assert not [x for x in tooltips if "0.00 km" in x], tooltips  # places on the 구 point: a band, not zero
    assert all("–" in x for x in tooltips), tooltips
    wait(driver).until(ec.frame_to_be_available_and_switch_to_it(MAP_FRAME))
    try:
        # the approximate position is drawn as its area (dashed), the scale is metric only
        wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, 'path[stroke-dasharray="8 6"]'))
        scales = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-scale-line")]
        assert len(scales) == 1 and scales[0].endswith(("km", " m")), scales
        # the "my location" pin's sprites are served
        images = driver.execute_script(_IMAGES)
        assert images and all("markers-" in i for i in images), images
        urls = [i.split('"')[1] for i in images]
        assert driver.execute_async_script(_STATUS, urls) == [200] * len(urls), urls
    finally:
        driver.switch_to.default_content()
    assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)
    driver.save_screenshot(str(artifacts_dir / "map_fixed.png"))


def test_a_click_over_a_cluster_sets_the_location(driver, app_url) -> None:
    _open_map(driver, app_url)
    _choose_mode(driver, "click")
    hint = t("map.click_hint", "ko")[:15]
    wait(driver).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, '[data-testid="stSidebar"]'), hint))
    assert not driver.find_elements(By.CSS_SELECTOR, TABLES)
    zoom = wait(driver).until(lambda d: _in_map(d, "return window.map.getZoom()"))
    # The rerun of the mode change may still replace the map's iframe after a click landed in the
    # old one: click again (a real click on the cluster each time), at most 3 times.
    for _ in range(3):
        try:
            wait(driver).until(ec.frame_to_be_available_and_switch_to_it(MAP_FRAME))
            cluster = wait(driver, 45).until(lambda d: d.execute_script(_CENTRAL_CLUSTER))
            ActionChains(driver).move_to_element(cluster).click().perform()
        except (StaleElementReferenceException, ElementNotInteractableException, TimeoutException):
            continue  # the iframe we were in was replaced by a rerun: switch into the new one
        finally:
            driver.switch_to.default_content()
        try:
            wait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, TABLES)) == 2)
            break
        except TimeoutException:
            continue
    assert len(driver.find_elements(By.CSS_SELECTOR, TABLES)) == 2, "a click over a cluster set no location"
    view = wait(driver).until(lambda d: _in_map(d, _VIEW))
    assert view[4] >= zoom  # the new map is around the clicked point
    assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)


def test_choosing_a_gu_zooms_the_map_to_it(driver, app_url) -> None:
    _open_map(driver, app_url)
    seoul = wait(driver).until(lambda d: _in_map(d, _VIEW))
    label = t("map.gu_filter", "ko")
    box = wait(driver).until(
        lambda d: d.find_element(By.XPATH, f'//div[@data-testid="stMultiSelect"][.//*[contains(., "{label}")]]//input')
    )
    box.click()
    box.send_keys("은평구", Keys.ENTER)

    def fitted(d):
        view = _in_map(d, _VIEW)
        return view if view and view[4] > seoul[4] else None

    south, west, north, east, zoom = wait(driver).until(fitted)
    centre = ((south + north) / 2, (west + east) / 2)
    assert 37.58 < centre[0] < 37.66 and 126.88 < centre[1] < 126.96, (centre, zoom)  # 은평구
    assert north - south < 0.2


def test_browser_location_gives_up_with_a_message(driver, app_url) -> None:
    never = "navigator.geolocation.getCurrentPosition = function () {};"  # a browser that never answers
    script = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": never})
    try:
        _open_map(driver, app_url)
        _choose_mode(driver, "browser")
        said = t("map.browser_timeout", "ko", s=GEOLOCATION_TIMEOUT_S)[:20]
        sidebar = (By.CSS_SELECTOR, '[data-testid="stSidebar"]')
        wait(driver, 45).until(ec.text_to_be_present_in_element(sidebar, said))
        assert driver.find_element(By.XPATH, f'//button[contains(., "{t("map.browser_retry", "ko")}")]')
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})


def test_browser_location_that_answers_sets_the_origin(driver, app_url) -> None:
    """The bounded wait still takes a real answer (Gwanghwamun, 30 m accurate: an exact origin)."""
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"]})
    driver.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": 37.5759, "longitude": 126.9769, "accuracy": 30}
    )
    try:
        _open_map(driver, app_url)
        _choose_mode(driver, "browser")
        wait(driver, 45).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, TABLES)) == 2)
        tooltips = wait(driver).until(_km_tooltips)
        lows = [float(x.split(" · ")[-1].removeprefix("약 ").split("–")[0].removesuffix(" km")) for x in tooltips]
        assert min(lows) < 0.5, tooltips  # stores at Gwanghwamun
        assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)
    finally:
        driver.execute_cdp_cmd("Emulation.clearGeolocationOverride", {})
        driver.execute_cdp_cmd("Browser.resetPermissions", {})
