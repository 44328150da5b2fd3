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
