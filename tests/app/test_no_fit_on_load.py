"""Issue #17: the revenue and segments pages fit no model while they load on a studio-built warehouse.

The warehouse is built by the studio build (its after-build step stores the survival curves,
Kaplan–Meier curves, segmentations, factor loadings and PCA map). Then every fitting function
is replaced by one that records the call and raises, and each tab of both pages is opened:
no call, no exception, and no "computed on this page" caption. A snapshot-like warehouse whose
stored results belong to another build falls back to fitting, and says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from churn_core.analytics import segments, survival
from churn_core.config import get_settings
from churn_core.i18n import t
from churn_core.studio import STUDIO_AFTER_BUILD, open_studio_warehouse
from tests.helpers.apptest import open_page, open_tab

pytestmark = pytest.mark.app

PAGES = {
    "pages/revenue.py": ("clv_tab", "clv", ("survival", "clv", "risk", "campaign")),
    "pages/segments.py": ("seg_tab", "seg", ("clusters", "seniors", "factors", "map")),
}
#: Every function that fits a model for these pages (module, attribute).
FITTERS = (
    (survival.SurvivalModel, "fit"),
    (survival, "kaplan_meier"),
    (survival, "evaluate_models"),
    (segments.Segmenter, "fit"),
    (segments, "factor_loadings"),
    (segments, "projection"),
)


@pytest.fixture(scope="module")
def studio_built(tmp_path_factory) -> Iterator[str]:
    """A warehouse file built by the studio build (with its after-build steps), for this module's tests."""
    path = str(tmp_path_factory.mktemp("studio_built") / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHURN_WAREHOUSE_PATH", path)
        get_settings.cache_clear()
        wh = open_studio_warehouse(get_settings())
        wh.build()
        wh.ensure_tables()
        wh.close()
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture
def fits(monkeypatch) -> list[str]:
    """Replace every fitting function by one that records the call and raises."""
    calls: list[str] = []
    for owner, name in FITTERS:

        def refuse(*args, _name=f"{owner.__name__}.{name}", **kwargs):
            calls.append(_name)
            raise AssertionError(f"{_name} called while a page loads")

        monkeypatch.setattr(owner, name, refuse)
    return calls


def test_the_build_step_is_registered() -> None:
    from churn_core.analytics.precomputed import precompute

    assert precompute in STUDIO_AFTER_BUILD


@pytest.mark.parametrize("path", list(PAGES))
def test_pages_fit_nothing_on_a_studio_built_warehouse(path, studio_built, fits, monkeypatch) -> None:
    monkeypatch.setenv("CHURN_WAREHOUSE_PATH", studio_built)
    get_settings.cache_clear()
    state_key, prefix, tabs = PAGES[path]
    page = open_page(path, role="analyst")
    for name in tabs:
        open_tab(page, state_key, prefix, name)
        assert not page.exception, (name, page.exception)
        assert not any(t("analytics.computed_here", "ko") in c.value for c in page.caption), name
    assert fits == []
    assert len(page.get("plotly_chart")) >= 1


def test_a_warehouse_without_stored_results_fits_and_says_so(studio_built, monkeypatch) -> None:
    """Another build (here: the same rows, another ``built_at``) never reads the stored results."""
    monkeypatch.setenv("CHURN_WAREHOUSE_PATH", studio_built)
    get_settings.cache_clear()
    wh = open_studio_warehouse(get_settings())
    wh.execute("UPDATE {_meta} SET value = '2000-01-01T00:00:00+00:00' WHERE key = 'built_at'")
    assert wh.is_current()  # the app does not rebuild it: the stored results are simply not this build's
    wh.close()
    page = open_page("pages/revenue.py", role="analyst")
    assert not page.exception, page.exception
    assert any(t("analytics.computed_here", "ko") in c.value for c in page.caption)
    assert len(page.metric) == 2  # the held-out concordances, computed on the page
