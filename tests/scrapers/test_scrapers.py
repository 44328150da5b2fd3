"""The real scrapers in headless Chromium against local copies of the two sites."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from churn_core.geo import locations
from scrapers.driver import make_driver
from scrapers.run import RunOptions, scrape_kt, scrape_learning_centres
from tests.helpers.fixture_site import FixtureSite, SiteState

pytestmark = pytest.mark.scrapers

RAW = Path(__file__).resolve().parents[2] / "data" / "raw" / "locations"
FAST = RunOptions(delay_s=0.05, attempts=3, backoff_s=0.2)


def _kt_rows() -> list[dict]:
    raw = pd.read_csv(RAW / "kt_stores_seoul_raw.csv", dtype=str, keep_default_na=False)
    picked = pd.concat([raw.iloc[:12], raw.iloc[[373, 413]]])  # 14 stores; the last two have no phone
    rows = [
        {"type": t.strip("[]"), "name": n, "address": a, "phone": p}
        for t, n, a, p in picked[["장소타입", "장소", "주소", "전화번호"]].itertuples(index=False)
    ]
    rows[4]["address"] = rows[4]["address"].replace(" ", "\n", 3)  # drawn on several lines
    return rows


def _edc_rows() -> list[dict]:
    raw = pd.read_csv(RAW / "digital_learning_centers_seoul_raw.csv", dtype=str, keep_default_na=False)
    rows = [
        {"name": n, "address": a, "id": u.rsplit("=", 1)[1]}
        for n, a, u in raw.iloc[:27][["장소명", "주소명", "상세페이지"]].itertuples(index=False)
    ]
    rows[1]["address"] = rows[1]["address"].replace(" (", "\n(")
    return rows


@pytest.fixture(scope="module")
def driver():
    drv = make_driver()
    yield drv
    drv.quit()


@pytest.fixture
def site():
    state = SiteState(_kt_rows(), _edc_rows(), slow_pages={2}, slow_s=1.5, fail_once_pages={4, 3})
    with FixtureSite(state) as s:
        yield s


def test_kt_scraper_reads_every_page(driver, site, tmp_path) -> None:
    report = scrape_kt(driver, site.url, tmp_path, options=FAST)
    assert report.failures == []
    assert report.pages_read == 5 and report.rows_read == 14  # 3+3+3+3+2: a short last page
    out = pd.read_csv(report.output, dtype=str, keep_default_na=False)
    expected = _kt_rows()
    assert out["장소"].tolist() == [r["name"] for r in expected]
    assert out.loc[4, "주소"] == " ".join(expected[4]["address"].split())  # multi-line joined
    assert out["전화번호"].tolist()[-2:] == ["", ""]  # cards without phone
    assert out["장소타입"].iloc[0].startswith("[") and out["장소타입"].iloc[0].endswith("]")
    # page 4 failed once and was retried; page 2 was slow and still read
    assert sum("page=4" in r for r in site.state.requests) == 2
    saved = json.loads((tmp_path / "kt-report.json").read_text(encoding="utf-8"))
    assert saved["rows_read"] == 14 and saved["pages_read"] == 5


def test_learning_centre_scraper_builds_detail_urls(driver, site, tmp_path) -> None:
    report = scrape_learning_centres(driver, site.url, tmp_path, options=FAST)
    assert report.failures == [] and report.pages_read == 3 and report.rows_read == 27  # 12+12+3
    out = pd.read_csv(report.output, dtype=str, keep_default_na=False)
    expected = _edc_rows()
    assert out["장소명"].tolist() == [r["name"] for r in expected]
    assert out.loc[1, "주소명"] == " ".join(expected[1]["address"].split())
    assert out["상세페이지"].iloc[0] == f"{site.url}/edc/crse/plcdtl.do?&sch_edc_place_id={expected[0]['id']}"


def test_a_page_that_keeps_failing_is_reported_and_the_run_resumes(driver, tmp_path) -> None:
    state = SiteState(_kt_rows(), _edc_rows(), fail_once_pages={2})
    with FixtureSite(state) as site:
        one_try = RunOptions(delay_s=0.0, attempts=1, backoff_s=0.1)
        first = scrape_learning_centres(driver, site.url, tmp_path, options=one_try)
        assert [f["page"] for f in first.failures] == [2] and "500" in first.failures[0]["error"]
        assert first.pages_read == 2 and first.rows_read == 15
        second = scrape_learning_centres(driver, site.url, tmp_path, options=one_try)
    assert second.failures == [] and second.pages_resumed == 2 and second.pages_read == 1
    assert second.rows_read == 27
    assert sum("pno=1" in r for r in state.requests) == 1  # page 1 was not fetched again


def test_scraped_lists_go_through_the_same_build(driver, site, tmp_path) -> None:
    scrape_kt(driver, site.url, tmp_path, options=FAST)
    scrape_learning_centres(driver, site.url, tmp_path, options=FAST)
    frames = [
        locations.read_raw(tmp_path / name)
        for name in ("kt_stores_seoul_raw.csv", "digital_learning_centers_seoul_raw.csv")
    ]
    result = locations.build(frames)
    assert len(result.locations) + len(result.rejects) == 14 + 27
    assert result.locations["gu"].notna().all()
    assert set(result.locations["source"]) == {"kt", "learning_centre"}
