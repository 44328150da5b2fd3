"""The sidebar's "as of" selector (issue #14): every page shows the chosen customer snapshot, the
latest by default, and a synthetic snapshot is labelled as such on every page that shows it.

The warehouse of this module is a temporary DuckDB file built from a 200-customer extract of the
shipped file (the base snapshot, 2019-09-30) plus a synthetic next month (2019-10-31: the 131
customers who stayed, ``SYN-`` IDs), ingested with :func:`churn_core.data.snapshots.ingest_snapshot`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from churn_core.config import get_settings
from churn_core.data import synthetic
from churn_core.data.snapshots import ingest_snapshot, snapshot_frame
from churn_core.i18n import t
from churn_core.studio import shared_warehouse
from tests.helpers.apptest import open_page
from tests.helpers.snapshots import shipped_rows, write_rows

pytestmark = pytest.mark.app

BASE, NEXT = dt.date(2019, 9, 30), dt.date(2019, 10, 31)
N_BASE, N_NEXT = 200, 131  # 69 churners do not carry over


@pytest.fixture(scope="module")
def two_snapshots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("as_of")
    raw = write_rows(shipped_rows(N_BASE, start=1800), folder / "configured.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHURN_RAW_CUSTOMERS_CSV", str(raw))
        mp.setenv("CHURN_WAREHOUSE_PATH", str(folder / "as_of.duckdb"))
        get_settings.cache_clear()
        wh = shared_warehouse(get_settings())  # the app's own warehouse object (one DuckDB connection)
        wh.ensure_built()
        frame = synthetic.next_month_features(snapshot_frame(wh, BASE), drift=True, seed=0)
        frame = synthetic.draw_churn(frame, np.full(len(frame), 0.2), seed=0)
        path = synthetic.write_snapshot_csv(frame, folder / "next.csv")
        ingest_snapshot(wh, path, NEXT, is_synthetic=True, drift=synthetic.DRIFT_TEXT)
        yield folder
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _settings(two_snapshots, role_accounts):
    get_settings.cache_clear()  # the role accounts fixture set CHURN_STAFF_USERS after the module fixture
    yield


def _customers(at) -> str:
    return next(m.value for m in at.metric if m.label == t("home.customers", "ko"))


def _synthetic_warnings(at) -> list[str]:
    return [w.value for w in at.warning if "SYN-" in w.value]


def test_latest_snapshot_by_default_and_labelled_synthetic() -> None:
    at = open_page()
    box = at.sidebar.selectbox(key="_as_of_widget")
    assert box.options[0].startswith(NEXT.isoformat()) and "합성" in box.options[0]
    assert box.options[1] == BASE.isoformat()
    assert _customers(at) == f"{N_NEXT:,}"
    assert _synthetic_warnings(at) and "합성 데이터" in _synthetic_warnings(at)[0]
    assert "드리프트" in _synthetic_warnings(at)[0]  # the drift is said too


def test_switching_to_the_earlier_snapshot_changes_every_page() -> None:
    at = open_page()
    at.sidebar.selectbox(key="_as_of_widget").select_index(1).run()
    assert not at.exception, at.exception
    assert at.session_state["as_of"] == BASE
    assert _customers(at) == f"{N_BASE:,}"
    assert not _synthetic_warnings(at)  # the base snapshot is real data
    at.switch_page("pages/eda.py").run()  # the choice holds on another page
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="_as_of_widget").value == BASE
    at.switch_page("Home.py").run()
    at.sidebar.selectbox(key="_as_of_widget").select_index(0).run()
    assert _customers(at) == f"{N_NEXT:,}" and _synthetic_warnings(at)


def test_the_synthetic_label_is_on_every_page_in_english_too() -> None:
    at = open_page()
    at.selectbox(key="_lang_widget").select("en").run()
    assert any("Synthetic data" in w for w in _synthetic_warnings(at))
    assert "synthetic" in at.sidebar.selectbox(key="_as_of_widget").options[0]
    for page in ("pages/eda.py", "pages/models.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert _synthetic_warnings(at), page
