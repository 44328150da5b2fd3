"""Page objects of the two sites. Every locator lives in the ``Locators`` classes below.

Page objects only read and navigate: they wait explicitly (``WebDriverWait``), return
dataclasses and make no assertions; retries, delays and bookkeeping belong to
:mod:`scrapers.run`. Selectors use ids, classes and attributes, never absolute XPaths.

The structure follows the two sites as crawled in November 2023 (KT's store finder loads
result pages with JavaScript behind numbered page links; 디지털배움터 renders each page
of education-place cards on the server, ``pno`` in the query string, with the place id in
each card's ``onclick``). The test fixtures in ``tests/scrapers/sites/`` reproduce that
structure; check the locators against the live sites before a real run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


class PageLoadError(RuntimeError):
    """The site answered a page with an error (retry later)."""


@dataclass(frozen=True)
class KtStoreRow:
    """One store of the KT store finder, as listed."""

    page: int
    store_type: str
    name: str
    address: str
    phone: str


@dataclass(frozen=True)
class PlaceCard:
    """One education place of the 디지털배움터 list, as listed."""

    page: int
    name: str
    address: str
    place_id: str | None
    detail_url: str | None


def _text(element: WebElement) -> str:
    """Rendered text on one line (``<br>`` in multi-line addresses becomes a space)."""
    text = element.get_attribute("innerText") or element.get_attribute("textContent") or ""
    return re.sub(r"\s+", " ", text).strip()


def _child_text(element: WebElement, locator: tuple[str, str]) -> str:
    try:
        return _text(element.find_element(*locator))
    except NoSuchElementException:
        return ""


# ====================================================================================
class KtLocators:
    """KT store finder (help.kt.com/store/KtStoreSearch.do)."""

    PATH = "/store/KtStoreSearch.do"
    SEARCH_TAB = (By.CSS_SELECTOR, "#cfmClContents .tab-list a[href='#trigger1-2']")
    SEARCH_INPUT = (By.CSS_SELECTOR, "#trigger1-2 input[type='text']")
    SEARCH_BUTTON = (By.CSS_SELECTOR, "#trigger1-2 button")
    RESULTS = (By.CSS_SELECTOR, "#cfmClContents .store-list")
    ITEMS = (By.CSS_SELECTOR, "#cfmClContents .store-list .store-item")
    TYPE = (By.CSS_SELECTOR, ".store-type")
    NAME = (By.CSS_SELECTOR, ".store-name")
    ADDRESS = (By.CSS_SELECTOR, ".store-addr")
    PHONE = (By.CSS_SELECTOR, ".store-tel")
    ERROR = (By.CSS_SELECTOR, "#cfmClContents .store-list .error")
    CURRENT_PAGE = (By.CSS_SELECTOR, "#cfmClContents .paging a.on")
    PAGE_LINKS = (By.CSS_SELECTOR, "#cfmClContents .paging a[data-page]")
    NEXT_GROUP = (By.CSS_SELECTOR, "#cfmClContents .paging a.next")


class KtStoreSearchPage:
    """The KT store finder: search a term, then read result pages one by one.

    Parameters
    ----------
    driver : WebDriver
    base_url : str
        Site root (``https://help.kt.com``, or a fixture server in tests).
    timeout_s : float
        Seconds to wait for any one thing.
    """

    L = KtLocators

    def __init__(self, driver: WebDriver, base_url: str, timeout_s: float = 20.0):
        self.driver = driver
        self.base_url = base_url.rstrip("/")
        self.wait = WebDriverWait(driver, timeout_s)

    def open(self) -> KtStoreSearchPage:
        """Load the store finder and wait until its search tab can be clicked."""
        self.driver.get(self.base_url + self.L.PATH)
        self.wait.until(EC.element_to_be_clickable(self.L.SEARCH_TAB))
        return self

    def search(self, term: str) -> int:
        """Search ``term`` (e.g. "서울") and wait for the first result page; return its number."""
        self.driver.find_element(*self.L.SEARCH_TAB).click()
        box = self.wait.until(EC.visibility_of_element_located(self.L.SEARCH_INPUT))
        box.clear()
        box.send_keys(term)
        self.driver.find_element(*self.L.SEARCH_BUTTON).click()
        return self._wait_for_page(1)

    def current_page(self) -> int | None:
        """Number of the result page shown (None while none is, or the pager is being redrawn)."""
        try:
            return int(_text(self.driver.find_element(*self.L.CURRENT_PAGE)))
        except (NoSuchElementException, StaleElementReferenceException, ValueError):
            return None

    def _busy(self) -> bool:
        try:
            return self.driver.find_element(*self.L.RESULTS).get_attribute("aria-busy") == "true"
        except (NoSuchElementException, StaleElementReferenceException):
            return True

    def _error(self) -> str | None:
        found = self.driver.find_elements(*self.L.ERROR)
        return _text(found[0]) if found else None

    def _wait_for_page(self, number: int) -> int:
        def settled(driver) -> bool:
            return not self._busy() and (self.current_page() == number or self._error() is not None)

        self.wait.until(settled)
        if (message := self._error()) is not None:
            raise PageLoadError(f"KT page {number}: {message}")
        return number

    def go_to(self, number: int) -> bool:
        """Show result page ``number``; False if the site has no such page.

        Raises
        ------
        PageLoadError
            If the site answered that page with an error.
        selenium.common.exceptions.TimeoutException
            If the page did not settle in time.
        """
        while True:
            if self.current_page() == number and self._error() is None:
                return True
            links = {int(a.get_attribute("data-page")): a for a in self.driver.find_elements(*self.L.PAGE_LINKS)}
            if number in links:
                links[number].click()
                self._wait_for_page(number)
                return True
            nxt = self.driver.find_elements(*self.L.NEXT_GROUP)
            if not links or max(links) > number or not nxt:
                return False
            first = max(links) + 1
            nxt[0].click()
            self._wait_for_page(first)

    def rows(self) -> list[KtStoreRow]:
        """The stores listed on the current page (a missing phone is an empty string)."""
        page = self.current_page() or 0
        return [
            KtStoreRow(
                page,
                _child_text(item, self.L.TYPE),
                _child_text(item, self.L.NAME),
                _child_text(item, self.L.ADDRESS),
                _child_text(item, self.L.PHONE),
            )
            for item in self.driver.find_elements(*self.L.ITEMS)
        ]


# ====================================================================================
class EdcLocators:
    """디지털배움터 education-place list (/edc/crse/place.do)."""

    PATH = "/edc/crse/place.do"
    DETAIL_PATH = "/edc/crse/plcdtl.do"
    LIST = (By.CSS_SELECTOR, "#content .edu-place-list")
    CARDS = (By.CSS_SELECTOR, "#content .edu-place-list > li")
    NAME = (By.CSS_SELECTOR, "p.title")
    ADDRESS = (By.CSS_SELECTOR, "li.ellip")
    LINK = (By.CSS_SELECTOR, "[onclick]")
    PAGE_LINKS = (By.CSS_SELECTOR, "#content .paging a[data-page]")
    PLACE_ID = re.compile(r"(\d{8,})")


class EdcPlaceListPage:
    """One page of the 디지털배움터 education-place list for an area.

    Parameters
    ----------
    driver : WebDriver
    base_url : str
        Site root (``https://www.디지털배움터.kr`` in punycode, or a fixture server).
    area_code : str
        ``sch_area_cd``; 101 is Seoul.
    page_size : int
        ``psize``: cards per page.
    timeout_s : float
        Seconds to wait for any one thing.
    """

    L = EdcLocators

    def __init__(
        self, driver: WebDriver, base_url: str, area_code: str = "101", page_size: int = 12, timeout_s: float = 20.0
    ):
        self.driver = driver
        self.base_url = base_url.rstrip("/")
        self.area_code = area_code
        self.page_size = page_size
        self.wait = WebDriverWait(driver, timeout_s)

    def url(self, number: int) -> str:
        query = {"punit": 5, "psize": self.page_size, "pno": number, "sch_area_cd": self.area_code}
        return f"{self.base_url}{self.L.PATH}?{urlencode(query)}"

    def open(self, number: int) -> EdcPlaceListPage:
        """Load page ``number`` and wait for its list.

        Raises
        ------
        PageLoadError
            If the list does not appear (an error page, for instance).
        """
        self.driver.get(self.url(number))

        def loaded(driver) -> bool:  # the list is there, or the page finished loading without it
            return (
                bool(driver.find_elements(*self.L.LIST))
                or driver.execute_script("return document.readyState") == "complete"
            )

        try:
            self.wait.until(loaded)
        except TimeoutException as exc:
            raise PageLoadError(f"education places page {number}: timed out") from exc
        if not self.driver.find_elements(*self.L.LIST):
            raise PageLoadError(f"education places page {number}: {self.driver.title or 'no list on the page'}")
        return self

    def last_page(self) -> int:
        """Highest page number linked from the pager (1 if there is no pager)."""
        numbers = [int(a.get_attribute("data-page")) for a in self.driver.find_elements(*self.L.PAGE_LINKS)]
        return max(numbers, default=1)

    def cards(self, number: int) -> list[PlaceCard]:
        """The places on the loaded page, with the detail-page URL built from the place id."""
        out = []
        for card in self.driver.find_elements(*self.L.CARDS):
            links = card.find_elements(*self.L.LINK)
            onclick = links[0].get_attribute("onclick") if links else ""
            match = self.L.PLACE_ID.search(onclick or "")
            place_id = match.group(1) if match else None
            detail = f"{self.base_url}{self.L.DETAIL_PATH}?&sch_edc_place_id={place_id}" if place_id else None
            out.append(
                PlaceCard(number, _child_text(card, self.L.NAME), _child_text(card, self.L.ADDRESS), place_id, detail)
            )
        return out
