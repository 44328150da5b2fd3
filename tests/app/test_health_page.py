"""The Model health page (issue #14) in AppTest: analysts only, clear empty states, logged runs with
their drift, realised performance with intervals, and the alert on Home when a threshold is breached.

The module runs on a warehouse of its own (built on first use), so runs and outcomes written by
other tests do not change what it sees."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churn_core.config import get_settings
from churn_core.i18n import t
from churn_core.monitoring.runs import log_scoring_run
from churn_core.studio import shared_warehouse
from tests.helpers.apptest import open_page, open_tab

pytestmark = pytest.mark.app

PAGE = "pages/health.py"


@pytest.fixture(scope="module", autouse=True)
def own_warehouse(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CHURN_WAREHOUSE_PATH", str(tmp_path_factory.mktemp("health") / "warehouse.duckdb"))
    get_settings.cache_clear()
    shared_warehouse(get_settings()).ensure_built()  # the build runs here, not inside a page run's time limit
    yield
    mp.undo()
    get_settings.cache_clear()


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.mark.parametrize("role", ["marketer", "staff"])
def test_only_analysts_open_the_page(role) -> None:
    at = open_page(PAGE, role=role)
    assert not at.exception, at.exception
    why = t("auth.no_permission", "ko", role=t(f"role.{role}", "ko"), permission=t("auth.perm_health", "ko"))
    assert why in _texts(at.warning)  # the existing role guard, naming the permission
    assert not at.get("plotly_chart") and t("health.alerts_title", "ko") not in [h.value for h in at.subheader]


def test_empty_states_say_what_to_run() -> None:
    at = open_page(PAGE, role="analyst")
    assert [h.value for h in at.title] == [t("health.title", "ko")]
    assert t("health.no_runs", "ko") in _texts(at.info)
    assert "churn-studio score" in _texts(at.code)
    assert len(at.get("plotly_chart")) == 1  # drift bars of the latest snapshot against the reference
    open_tab(at, "health_tab", "health", "performance")
    assert not at.exception, at.exception
    assert t("health.no_outcomes", "ko") in _texts(at.info)
    assert "churn-studio snapshot synthesize" in _texts(at.code)


def _shifted(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    fibre = out["internet_service"] == "Fiber optic"
    out.loc[fibre, "monthly_charges"] = out.loc[fibre, "monthly_charges"] * 1.15
    return out


def test_runs_outcomes_and_the_home_alert() -> None:
    at = open_page(role="analyst")  # builds this module's warehouse
    assert t("health.home_alert", "ko").split("{")[0] not in _texts(at.warning)  # nothing breached yet
    wh = shared_warehouse(get_settings())
    customers = wh.query("SELECT * FROM {customers} ORDER BY customer_id")
    rng = np.random.default_rng(3)
    log_scoring_run(wh, source="api", model_version="test", snapshot_date=None, features=_shifted(customers),
                    probabilities=rng.uniform(size=len(customers)))  # fmt: skip
    try:
        from churn_core.data.snapshots import latest_snapshot_date

        day = latest_snapshot_date(wh) or get_settings().base_snapshot_date
    except ImportError:
        day = get_settings().base_snapshot_date
    if wh.table_exists("outcomes"):  # design part A; outcomes unrelated to the scores: ROC-AUC about 0.5
        wh.append_rows("outcomes", pd.DataFrame({
            "snapshot_date": day, "customer_id": customers["customer_id"],
            "churned": rng.uniform(size=len(customers)) < 0.27, "observed_date": day + dt.timedelta(days=31),
            "rule": "test", "recorded_at": dt.datetime.now(dt.UTC),
        }))  # fmt: skip
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    runs = next(d.value for d in at.dataframe if t("health.col_max_psi", "ko") in d.value.columns)
    assert runs[t("health.col_source", "ko")].tolist() == [t("health.source_api", "ko")]
    assert runs[t("health.col_status", "ko")].iloc[0] == t("health.status_alert", "ko")
    assert runs[t("health.col_worst", "ko")].iloc[0] == t("feature.monthly_charges", "ko")
    open_tab(at, "health_tab", "health", "scores")
    assert not at.exception and len(at.get("plotly_chart")) == 1
    if not wh.table_exists("outcomes"):
        return
    open_tab(at, "health_tab", "health", "performance")
    assert not at.exception, at.exception
    ci = next(d.value for d in at.dataframe if t("health.col_ci", "ko") in d.value.columns)
    assert len(ci) == 5 and ci[t("health.col_ci", "ko")].str.contains("–").all()
    assert any(t("health.alert_auc_drop", "ko").split("{")[0] in e.value for e in at.error)
    home = open_page(role="analyst")
    warning = _texts(home.warning)
    assert t("health.home_alert", "ko").split("{")[0] in warning and "ROC-AUC" in warning
    for role in ("marketer", "staff"):  # the alert's figures are the analyst-only page's
        assert t("health.home_alert", "ko").split("{")[0] not in _texts(open_page(role=role).warning)
    # the alert's link to the page, besides the sidebar's and the page list's
    assert sum(link.proto.page == "health" for link in home.get("page_link")) == 3
