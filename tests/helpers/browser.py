"""Waiting in a real browser: one ``WebDriverWait`` for every Selenium test of the app."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait


def wait(driver, seconds: float = 90) -> WebDriverWait:
    """A ``WebDriverWait`` of ``seconds`` polling every 0.25 s.

    Streamlit replaces elements on every rerun: a stale element means "look again", so
    :class:`StaleElementReferenceException` is ignored while waiting.
    """
    return WebDriverWait(driver, seconds, poll_frequency=0.25, ignored_exceptions=[StaleElementReferenceException])


#: JavaScript for ``execute_script`` inside the map's frame: opens every tooltip of the Leaflet map
#: ``window.map`` and returns their texts (an empty list while the map is not drawn yet).
OPEN_TOOLTIPS = """
if (!window.map) return [];
const shown = [];
window.map.eachLayer(layer => {
    if (layer.getTooltip && layer.getTooltip()) {
        layer.openTooltip();
        shown.push(layer.getTooltip().getElement().textContent.trim());
    }
});
return shown;
"""
