"""Polite, resumable scraping runs with retries, and a report of what was read.

Each page read is saved at once to ``<work_dir>/<source>/page-NNNN.json``; a rerun skips
pages already saved (resume after a crash or a failed page). A page that fails is retried
with exponential back-off (tenacity); if it still fails, the failure is recorded in the
report and the run goes on with the next page. Between pages the runner waits
``delay_s`` seconds (politeness towards the site). The report is written to
``<work_dir>/<source>-report.json`` and the rows to the raw CSV format of
:data:`churn_core.geo.locations.RAW_FORMATS`.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from selenium.common.exceptions import WebDriverException
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from churn_core.escaping import write_csv
from scrapers.pages import EdcPlaceListPage, KtStoreSearchPage, PageLoadError

RETRYABLE = (PageLoadError, WebDriverException)
MAX_PAGES = 500  # bound on any one run


@dataclass
class ScrapeReport:
    """What a run read: pages and rows, pages resumed from an earlier run, and failures."""

    source: str
    started_at: str
    finished_at: str = ""
    pages_read: int = 0
    pages_resumed: int = 0
    rows_read: int = 0
    failures: list[dict] = field(default_factory=list)
    output: str = ""

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class _Checkpoint:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, page: int) -> Path:
        return self.folder / f"page-{page:04d}.json"

    def has(self, page: int) -> bool:
        return self.path(page).exists()

    def save(self, page: int, rows: list[dict], extra: dict | None = None) -> None:
        tmp = self.path(page).with_suffix(".tmp")
        tmp.write_text(json.dumps({"rows": rows, **(extra or {})}, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path(page))

    def load(self, page: int) -> dict:
        return json.loads(self.path(page).read_text(encoding="utf-8"))

    def all_rows(self) -> list[dict]:
        rows: list[dict] = []
        for path in sorted(self.folder.glob("page-*.json")):
            rows.extend(json.loads(path.read_text(encoding="utf-8"))["rows"])
        return rows


def _retrying(attempts: int, backoff_s: float) -> Retrying:
    return Retrying(
        retry=retry_if_exception_type(RETRYABLE),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=backoff_s, max=30 * backoff_s),
        reraise=False,
    )


@dataclass
class RunOptions:
    """Politeness and robustness of a run."""

    delay_s: float = 1.0
    attempts: int = 3
    backoff_s: float = 1.0
    max_pages: int = MAX_PAGES


def _pause(seconds: float) -> None:
    threading.Event().wait(seconds)  # a polite delay between requests, not a wait for the page


@dataclass(frozen=True)
class _PageRead:
    """One page as read: its rows, and the site's last page number where the site tells it."""

    rows: list[dict]
    last_page: int | None = None


#: Reads page ``n`` (navigating to it); ``None`` when the site has no such page, which ends the run.
ReadPage = Callable[[int], _PageRead | None]


def _paginate(
    read: ReadPage,
    cp: _Checkpoint,
    report: ScrapeReport,
    opt: RunOptions,
    progress: Callable[[int, int], None] | None = None,
    knows_last_page: bool = False,
) -> None:
    """Read pages 1, 2, … into ``cp`` until ``read`` finds no page, with resume, retries and failure records.

    A page already saved in ``cp`` is skipped (counted as resumed). A page whose every attempt fails
    is recorded in ``report.failures`` and the run goes on with the next page. Between pages read the
    run pauses ``opt.delay_s`` seconds.

    Parameters
    ----------
    read : ReadPage
        Reads one page; called again on :data:`RETRYABLE` errors, up to ``opt.attempts`` times.
    knows_last_page : bool
        The site tells its number of pages (``_PageRead.last_page``, saved with each page): the run
        stops after that page, and stops at a failure before any page told it.
    """
    page, last = 1, None
    while page <= opt.max_pages and (last is None or page <= last):
        if cp.has(page):
            report.pages_resumed += 1
            if knows_last_page:
                last = cp.load(page).get("last_page", last)
            page += 1
            continue
        try:
            got = _retrying(opt.attempts, opt.backoff_s)(read, page)
        except RetryError as exc:
            report.failures.append({"page": page, "error": str(exc.last_attempt.exception())})
            if knows_last_page and last is None:
                break  # without one good page the number of pages is unknown
            page += 1
            continue
        if got is None:
            break
        if knows_last_page:
            last = got.last_page
        cp.save(page, got.rows, {"last_page": got.last_page} if knows_last_page else None)
        report.pages_read += 1
        if progress is not None:
            progress(page, len(got.rows))
        page += 1
        _pause(opt.delay_s)


def _finish(report: ScrapeReport, work_dir: Path, raw: tuple[str, pd.DataFrame]) -> ScrapeReport:
    """Write every row read so far (this run and earlier ones) as the raw CSV, and the report."""
    filename, rows = raw
    path = work_dir / filename
    write_csv(rows, path)
    report.rows_read, report.output, report.finished_at = len(rows), str(path), _now()
    report.write(work_dir / f"{report.source}-report.json")
    return report


def _run(
    source: str,
    work_dir: Path,
    options: RunOptions | None,
    read: ReadPage,
    raw: Callable[[_Checkpoint], tuple[str, pd.DataFrame]],
    progress: Callable[[int, int], None] | None,
    *,
    search: Callable[[], object] | None = None,
    knows_last_page: bool = False,
) -> ScrapeReport:
    """One run of ``source``: an optional ``search`` first (with retries), then :func:`_paginate`, then :func:`_finish`.

    If the search fails on every attempt, the failure is recorded as page 1 and no page is read;
    the raw CSV and the report are written all the same (with the rows of earlier runs).
    """
    opt = options or RunOptions()
    report = ScrapeReport(source, _now())
    cp = _Checkpoint(work_dir / source)
    try:
        if search is not None:
            _retrying(opt.attempts, opt.backoff_s)(search)
    except RetryError as exc:
        report.failures.append({"page": 1, "error": f"search failed: {exc.last_attempt.exception()}"})
    else:
        _paginate(read, cp, report, opt, progress, knows_last_page)
    return _finish(report, work_dir, raw(cp))


def scrape_kt(
    driver, base_url: str, work_dir: Path, term: str = "서울", options: RunOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScrapeReport:  # fmt: skip
    """Scrape every result page of the KT store finder for ``term`` into ``kt_stores_seoul_raw.csv``."""
    page_obj = KtStoreSearchPage(driver, base_url)

    def read(page: int) -> _PageRead | None:
        if not page_obj.go_to(page):
            return None
        return _PageRead([asdict(r) for r in page_obj.rows()])

    return _run("kt", work_dir, options, read, _kt_raw, progress, search=lambda: page_obj.open().search(term))


def _kt_raw(cp: _Checkpoint) -> tuple[str, pd.DataFrame]:
    df = pd.DataFrame(cp.all_rows(), columns=["page", "store_type", "name", "address", "phone"])
    df["장소타입"] = "[" + df["store_type"] + "]"
    out = df.rename(columns={"name": "장소", "address": "주소", "phone": "전화번호"})
    return "kt_stores_seoul_raw.csv", out[["장소타입", "장소", "주소", "전화번호"]]


def scrape_learning_centres(
    driver, base_url: str, work_dir: Path, area_code: str = "101", options: RunOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScrapeReport:  # fmt: skip
    """Scrape every page of the 디지털배움터 place list for an area into ``digital_learning_centers_seoul_raw.csv``."""
    page_obj = EdcPlaceListPage(driver, base_url, area_code)

    def read(page: int) -> _PageRead | None:
        page_obj.open(page)
        cards = [asdict(c) for c in page_obj.cards(page)]
        last = page_obj.last_page()
        return _PageRead(cards, last) if cards else None

    return _run("learning_centre", work_dir, options, read, _edc_raw, progress, knows_last_page=True)


def _edc_raw(cp: _Checkpoint) -> tuple[str, pd.DataFrame]:
    df = pd.DataFrame(cp.all_rows(), columns=["page", "name", "address", "place_id", "detail_url"])
    out = df.rename(columns={"name": "장소명", "address": "주소명", "detail_url": "상세페이지"})
    return "digital_learning_centers_seoul_raw.csv", out[["장소명", "주소명", "상세페이지"]]
