"""A headless Chromium WebDriver from Debian's packages; Selenium never downloads a driver."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
#: Flags for a closed network: no background connections, no first-run or sync traffic.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--window-size=1400,1600", "--lang=ko-KR",
)  # fmt: skip


def make_driver(page_load_timeout_s: float = 60.0) -> webdriver.Chrome:
    """Start headless Chromium through ``/usr/bin/chromedriver``.

    Raises
    ------
    FileNotFoundError
        If Debian's ``chromium`` or ``chromium-driver`` is not installed.
    """
    for path in (CHROMEDRIVER, CHROMIUM):
        if not Path(path).exists():
            raise FileNotFoundError(f"{path} is missing: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(page_load_timeout_s)
    return driver
