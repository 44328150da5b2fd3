"""Issue #17: Home's model-health alert reads stored alerts and never computes drift, metrics or scores.

Every function that computes the alerts (drift, realised performance, a snapshot scored again,
the champion loaded to score) is replaced by one that records the call and raises. Home, signed
in as an analyst, then shows nothing while no alerts are stored for the current data, shows the
stored breaches once they are stored (as the Model health page and the commands store them), and
shows nothing again when a new scoring run makes them another data's. The Model health page
stores the latest snapshot's alerts it computed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from churn_core.config import get_settings
from churn_core.i18n import t
from churn_core.monitoring import drift, health, performance
from churn_core.monitoring.runs import log_scoring_run
from churn_core.prediction import batch
from churn_core.studio import shared_warehouse
from tests.helpers.apptest import open_page

pytestmark = pytest.mark.app

HOME_ALERT = t("health.home_alert", "ko").split("{")[0]
#: Every function behind the alerts: none may run while Home loads.
COMPUTING = (
    (health, "health_alerts"),
    (drift, "snapshot_drift"),
    (drift, "reference_frame"),
    (performance, "realised_performance"),
    (performance, "_recomputed"),
    (batch, "champion_model"),
)


@pytest.fixture(scope="module", autouse=True)
def own_warehouse(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CHURN_WAREHOUSE_PATH", str(tmp_path_factory.mktemp("home_alert") / "warehouse.duckdb"))
    get_settings.cache_clear()
    shared_warehouse(get_settings()).ensure_built()  # built here, not inside a page run's time limit
    yield
    mp.undo()
    get_settings.cache_clear()


@pytest.fixture
def computed(monkeypatch) -> list[str]:
    calls: list[str] = []
    for owner, name in COMPUTING:

        def refuse(*args, _name=f"{owner.__name__}.{name}", **kwargs):
            calls.append(_name)
            raise AssertionError(f"{_name} called while Home loads")

        monkeypatch.setattr(owner, name, refuse)
    return calls


def _warnings(at) -> str:
    return "\n".join(str(w.value) for w in at.warning)


def test_home_shows_stored_alerts_and_computes_none(computed) -> None:
    wh = shared_warehouse(get_settings())
    at = open_page(role="analyst")
    assert not at.exception, at.exception
    assert HOME_ALERT not in _warnings(at)  # nothing stored for this data: nothing shown, nothing computed
    breach = {"kind": "auc_drop", "subject": "roc_auc", "value": 0.21, "threshold": 0.05, "level": "alert",
              "snapshot_date": dt.date(2019, 9, 30)}  # fmt: skip
    warn = {**breach, "kind": "drift", "subject": "tenure", "level": "warn", "value": 0.15, "threshold": 0.1}
    health.store_latest_alerts(wh, alerts=[breach, warn])
    assert health.stored_latest_alerts(wh) == [breach, warn]
    at.run()
    assert not at.exception, at.exception
    shown = _warnings(at)
    assert HOME_ALERT in shown and "ROC-AUC" in shown and "0.210" in shown  # the stored breach, not the warning
    assert computed == []
    customers = wh.query("SELECT * FROM {customers} ORDER BY customer_id LIMIT 500")
    log_scoring_run(wh, source="api", model_version="test", snapshot_date=None, features=customers,
                    probabilities=np.random.default_rng(1).uniform(size=len(customers)))  # fmt: skip
    computed.clear()  # logging the run (not Home) bins its features against the reference
    assert health.stored_latest_alerts(wh) is None  # a new run: the stored alerts are another data's
    at.run()
    assert not at.exception, at.exception
    assert HOME_ALERT not in _warnings(at)
    assert computed == []


def test_the_health_page_stores_the_latest_alerts_for_home() -> None:
    import streamlit as st

    st.cache_data.clear()  # the page computes them in this test
    wh = shared_warehouse(get_settings())
    assert health.stored_latest_alerts(wh) is None
    at = open_page("pages/health.py", role="analyst")
    assert not at.exception, at.exception
    stored = health.stored_latest_alerts(wh)
    assert stored is not None
    expected = [a.as_dict() for a in health.health_alerts(wh)]
    assert [(a["kind"], a["subject"], a["level"], a["snapshot_date"]) for a in stored] == [
        (a["kind"], a["subject"], a["level"], a["snapshot_date"]) for a in expected
    ]
