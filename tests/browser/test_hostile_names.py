"""A locations table with hostile names, in a real headless Chromium: no script runs, the text shows literally.

The locations build refuses such names (``reject_markup``), so the table is written
directly: the map must be safe even if a table slipped through. A second ``streamlit
run`` reads it through ``CHURN_LOCATIONS_DIR``; it gets a copy of the session's built
warehouse, so nothing is rebuilt. Every payload would set ``window.__pwned``: the test
loads the map, asks for the places nearest to a typed address (so the nearest-place
tooltips are drawn), opens every tooltip, hovers "me", clicks every pin to open its popup,
and checks the flag in the map's iframe and in the app page.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator

import pandas as pd
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from churn_core.config import PROJECT_ROOT
from churn_core.escaping import write_csv
from churn_core.geo import locations
from churn_core.geo.geocoding import OfflineGeocoder
from churn_core.i18n import t
from tests.helpers.browser import OPEN_TOOLTIPS, wait
from tests.helpers.servers import free_port, serving

pytestmark = pytest.mark.browser

MAP_FRAME = (By.CSS_SELECTOR, 'iframe[title*="st_folium"], iframe[src*="streamlit_folium"]')
ADDRESS = "서울특별시 강동구 고덕로 399 (고덕동)"
WAIT_S = 60
#: (source, place_type, name, address, phone, detail_url): every one tries to set window.__pwned.
HOSTILE = (
    ("kt", "kt_plaza", '<img src=x onerror="window.__pwned=1">', "서울특별시 강동구 고덕로 1", None, None),
    ("learning_centre", "learning_centre", "${window.__pwned=2}", "서울특별시 강동구 고덕로 2", None,
     "https://evil.com\\@www.xn--2z1bw8k1pjz5ccumkb.kr/"),
    ("kt", "kt_dealer", "</script><script>window.__pwned=3</script>", "서울특별시 강동구 고덕로 3", None, None),
    ("learning_centre", "learning_centre", "`;window.__pwned=4;//", "서울특별시 강동구 고덕로 4", None, None),
    ("learning_centre", "learning_centre", "[click me](javascript:window.__pwned=5)", "서울특별시 강동구 고덕로 5",
     None, "javascript:window.__pwned=6"),
    ("kt", "kt_experience_plaza", "정상 매장", "<svg onload=window.__pwned=7>",
     "'><img src=x onerror=window.__pwned=8>", "https://www.xn--2z1bw8k1pjz5ccumkb.kr/edc/crse/plcdtl.do?a=1"),
)  # fmt: skip


def _hostile_table() -> pd.DataFrame:
    """The hostile places around the point the typed address geocodes to (about 1 km apart: no clusters)."""
    origin = OfflineGeocoder().fit([row[3] for row in HOSTILE]).geocode(ADDRESS)
    assert origin.lat is not None, origin.reason
    rows = []
    for i, (source, place_type, name, address, phone, url) in enumerate(HOSTILE):
        lat, lon = origin.lat + 0.009 * (i % 3 - 1), origin.lon + 0.012 * (i // 3 * 2 - 1)
        rows.append({"source": source, "place_type": place_type, "name": name, "address": address, "phone": phone,
                     "detail_url": url, "gu": "강동구", "dong": "고덕동", "lat": lat, "lon": lon,
                     "geocode_precision": "dong", "geocoder": "test", "scraped_at": "2023-11"})  # fmt: skip
    return pd.DataFrame(rows, columns=list(locations.COLUMNS))


@pytest.fixture(scope="module")
def hostile_app_url(duckdb_warehouse, tmp_path_factory, artifacts_dir) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hostile_locations")
    table = _hostile_table()
    # written as-is (write_csv only guards spreadsheets: "'" before =, +, -, @, which none of these names start with)
    write_csv(table, folder / "locations.csv")
    assert pd.read_csv(folder / "locations.csv")["name"].tolist() == table["name"].tolist()
    duckdb_warehouse.execute("CHECKPOINT")  # the file is complete on disk: a copy needs no rebuild
    warehouse_copy = folder / "warehouse.duckdb"
    shutil.copy(duckdb_warehouse.path, warehouse_copy)
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "Home.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(warehouse_copy), "CHURN_LOCATIONS_DIR": str(folder)}
    url = f"http://127.0.0.1:{port}"
    log = artifacts_dir / "streamlit_hostile.log"
    try:
        with serving(cmd, f"{url}/_stcore/health", "streamlit", WAIT_S, log, cwd=PROJECT_ROOT, env=env):
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


def _pwned(driver) -> object:
    return driver.execute_script("return window.__pwned === undefined ? null : window.__pwned")


_AWAIT_POPUP = "window.__opened = null; window.map.once('popupopen', e => { window.__opened = e.popup; });"
_POPUP = """
if (!window.__opened) return null;
const content = window.__opened.getElement().querySelector('.leaflet-popup-content');
return {
    text: content.innerText,
    tags: [...content.querySelectorAll('*')].map(e => e.tagName.toLowerCase()),
    hrefs: [...content.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
};
"""


def _nearest_tooltips(driver, n: int) -> list[str] | None:
    """Open every tooltip of the map; the nearest-place ones ("<name> · <km> km") once all ``n`` are drawn."""
    assert _pwned(driver) is None, f"a payload ran in the map's iframe: window.__pwned = {_pwned(driver)}"
    shown = [text for text in driver.execute_script(OPEN_TOOLTIPS) if text.endswith(" km")]
    return shown if len(shown) == n else None


def _click(driver, element) -> None:
    try:
        element.click()
    except WebDriverException:  # covered by another pin or the legend: the same click event, from script
        driver.execute_script("arguments[0].click()", element)


def test_hostile_place_names_never_run_and_show_literally(driver, hostile_app_url, artifacts_dir) -> None:
    driver.get(f"{hostile_app_url}/map")
    label = t("map.address", "ko")
    box = wait(driver, WAIT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, f'input[aria-label="{label}"]'))
    box.send_keys(ADDRESS, Keys.ENTER)
    wait(driver, WAIT_S).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')) == 2)
    wait(driver, WAIT_S).until(ec.frame_to_be_available_and_switch_to_it(MAP_FRAME))
    try:
        # the map with the origin: the 6 nearest places and "me" carry tooltips (and the 구 boundaries)
        names = [name for _, _, name, *_ in HOSTILE]
        tooltips = wait(driver, WAIT_S).until(
            lambda d: _nearest_tooltips(d, len(names)), "the map never drew its tooltips: did a name break its script?"
        )
        assert sorted(text.split(" · ")[0] for text in tooltips) == sorted(names), tooltips  # literally
        me = driver.find_element(By.CSS_SELECTOR, ".awesome-marker")
        ActionChains(driver).move_to_element(me).perform()  # a real hover

        pins = driver.find_elements(By.CSS_SELECTOR, ".studio-pin")
        assert len(pins) == len(HOSTILE)
        popups, hrefs = [], []
        for pin in pins:
            driver.execute_script(_AWAIT_POPUP)
            _click(driver, pin)  # a real click opens the pin's popup
            popup = wait(driver, 10).until(lambda d: d.execute_script(_POPUP))
            assert not {"img", "svg", "script", "iframe"} & set(popup["tags"]), popup
            popups.append(popup["text"])
            hrefs += popup["hrefs"]
        for _, _, name, address, _, _ in HOSTILE:
            assert any(name in text and address in text for text in popups), (name, popups)  # literally
        assert any("'><img src=x onerror=window.__pwned=8>" in text for text in popups)
        assert any(h.startswith("https://www.xn--2z1bw8k1pjz5ccumkb.kr/") for h in hrefs)  # the one good link kept
        assert all(h.startswith(("tel:", "https://www.xn--2z1bw8k1pjz5ccumkb.kr/")) for h in hrefs), hrefs

        hrefs = driver.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.href)")
        assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:")) or "evil.com" in h], hrefs
        assert not driver.find_elements(By.CSS_SELECTOR, ".leaflet-pane img[src='x'], .leaflet-pane svg[onload]")
        assert _pwned(driver) is None, "a payload ran in the map's iframe"
        driver.save_screenshot(str(artifacts_dir / "map_hostile_names.png"))
    finally:
        driver.switch_to.default_content()
    assert _pwned(driver) is None, "a payload ran in the app page"
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
