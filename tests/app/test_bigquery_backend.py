"""Switching the backend is a settings change: the same pages run on the BigQuery emulator."""

from __future__ import annotations

import pytest

from churn_core.config import get_settings
from churn_core.i18n import t
from tests.helpers.apptest import open_page, open_tab
from tests.helpers.bq_emulator import PROJECT

pytestmark = pytest.mark.app


@pytest.fixture
def on_bigquery(monkeypatch, bq_endpoint):
    monkeypatch.setenv("CHURN_WAREHOUSE_BACKEND", "bigquery")
    monkeypatch.setenv("CHURN_BIGQUERY_PROJECT", PROJECT)
    monkeypatch.setenv("CHURN_BIGQUERY_DATASET", "app_pages")
    monkeypatch.setenv("CHURN_BIGQUERY_API_ENDPOINT", bq_endpoint)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_home_and_eda_on_bigquery(on_bigquery) -> None:
    at = open_page()
    values = [m.value for m in at.metric]
    assert "7,043" in values and "26.5%" in values and "41.7%" in values
    where = t("app.backend", "ko", backend=t("app.backend_bigquery", "ko"), location=f"{PROJECT}.app_pages")
    assert any(c.value == where for c in at.sidebar.caption)
    at.switch_page("pages/eda.py").run()
    assert not at.exception, at.exception
    at.sidebar.checkbox(key="f_senior_only").check().run()
    assert not at.exception, at.exception
    assert any(m.value == "선택된 고객 1,142명 · 이탈 476명 · 이탈률 41.7%" for m in at.markdown)
    for tab in ("features", "distributions", "correlation"):  # GROUPING SETS and moment sums on BigQuery SQL
        open_tab(at, "eda_tab", "eda", tab)
        assert not at.exception, at.exception
        assert at.get("plotly_chart")
