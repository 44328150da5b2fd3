"""A warehouse built from a classic Kaggle file (21 columns): every page loads, every lazy tab opens,
views that need extended IBM columns say why they are not shown, and uploads are scored by the
model of their own schema (issue #13).

The classic file is cut from the shipped IBM file into a temporary folder; the warehouse is a
temporary DuckDB file of this module only (``CHURN_RAW_CUSTOMERS_CSV``, ``CHURN_WAREHOUSE_PATH``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from churn_core import cli
from churn_core.analytics.clv import IDENTITY_COLUMNS
from churn_core.config import PROJECT_ROOT, get_settings
from churn_core.data.schema import SCHEMAS, missing_for
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.i18n import t
from churn_core.studio import STUDIO_ENRICH
from tests.helpers.apptest import LAZY_TABS, open_page, open_tab
from tests.helpers.classic import classic_bytes, write_classic

pytestmark = pytest.mark.app

#: Lazy tabs of pages not in ``LAZY_TABS`` (state key, catalog prefix, tabs beyond the first).
OTHER_TABS = {"scoring": ("score_tab", "score", ("batch", "seniors"))}
#: Every page of the app: the entry point and each script under pages/.
PAGES = ("Home.py", *sorted(f"pages/{p.name}" for p in (PROJECT_ROOT / "pages").glob("*.py")))


@pytest.fixture(scope="module")
def classic_env(tmp_path_factory):
    """Settings pointing at a classic file and a warehouse of this module, for every test here."""
    folder = tmp_path_factory.mktemp("classic")
    path = write_classic(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHURN_RAW_CUSTOMERS_CSV", str(path))
        mp.setenv("CHURN_WAREHOUSE_PATH", str(folder / "classic.duckdb"))
        get_settings.cache_clear()
        yield folder
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _settings(classic_env, role_accounts):
    get_settings.cache_clear()  # the role accounts fixture set CHURN_STAFF_USERS after the module fixture
    yield


def test_the_warehouse_holds_only_classic_columns(classic_env) -> None:
    settings = get_settings()
    wh = DuckDBWarehouse(settings.warehouse_path, settings.raw_customers_csv, enrich=STUDIO_ENRICH)
    wh.ensure_built()
    try:
        assert tuple(wh.schema("customers")) == (*SCHEMAS["classic"].columns, "segment")
        assert wh.meta()["customer_schema"] == "classic"
        counts = wh.query("SELECT COUNT(*) AS n, SUM(churn_flag) AS k, COUNTIF(is_senior) AS s FROM {customers}")
        assert counts.iloc[0].tolist() == [7043, 1869, 1142]  # the shipped file's customers, churners and seniors
    finally:
        wh.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_and_tab_loads_on_a_classic_warehouse(classic_env, path: str) -> None:
    at = open_page(None if path == "Home.py" else path, role="staff")  # staff sees every page's content
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    tabs = LAZY_TABS.get(Path(path).stem)
    state_key, prefix, names = (
        (tabs.state_key, tabs.prefix, tuple(tabs.charts)) if tabs else OTHER_TABS.get(Path(path).stem, ("", "", ()))
    )
    for name in names:
        open_tab(at, state_key, prefix, name)
        assert not at.exception, (name, at.exception)
        assert not at.error, (name, [e.value for e in at.error])


def _infos(at) -> list[str]:
    return [i.value for i in at.info]


def test_views_that_need_extended_columns_say_why(classic_env) -> None:
    home = open_page(role="staff")
    assert t("schema.classic_note") in _infos(home)
    assert t("schema.not_shown", columns="Age") in _infos(home)  # churn rate by age group
    eda = open_page("pages/eda.py", role="staff")
    assert not any(w.key == "f_age_groups" for w in eda.sidebar.multiselect)  # no age-group or offer filter
    assert not any(w.key == "f_offers" for w in eda.sidebar.multiselect)
    open_tab(eda, "eda_tab", "eda", "reasons")
    assert t("schema.not_shown", columns="Churn Category, Churn Reason") in _infos(eda)
    revenue = open_page("pages/revenue.py", role="staff")
    identity = ", ".join(missing_for(SCHEMAS["classic"].columns, IDENTITY_COLUMNS))
    assert identity.startswith("Total Revenue, Total Extra Data Charges")
    assert t("schema.not_shown", columns=identity) in _infos(revenue)  # the revenue identity needs them
    open_tab(revenue, "clv_tab", "clv", "clv")
    assert t("schema.not_shown", columns="CLTV") in _infos(revenue)  # no comparison with IBM's CLTV
    models = open_page("pages/models.py", role="staff")
    assert any("19" in c.value for c in models.caption)  # the classic model's metrics are shown
    open_tab(models, "model_tab", "model", "leaderboard")
    assert t("model.leaderboard_extended_only") in _infos(models)


@pytest.mark.parametrize("churn", [False, True], ids=["without_churn", "with_churn"])
def test_classic_upload_is_scored_by_the_classic_model(classic_env, churn: bool) -> None:
    at = open_page("pages/scoring.py", role="analyst")
    open_tab(at, "score_tab", "score", "batch")
    data = classic_bytes(churn=churn, rows=150)
    at.file_uploader(key="score_upload").set_value(("kaggle.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("150" in s.value for s in at.success)
    captions = " ".join(c.value for c in at.caption)
    assert "churn\\-ensemble\\-classic" in captions
    assert ("Churn" in captions) is churn  # an ignored label is reported, and only when there is one


def test_ingest_command_rebuilds_customers_from_a_classic_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CHURN_WAREHOUSE_PATH", str(tmp_path / "ingest.duckdb"))
    get_settings.cache_clear()
    path = write_classic(tmp_path)
    checked = CliRunner().invoke(cli.app, ["validate", str(path)])
    assert checked.exit_code == 0 and "7,043 customers, valid (classic schema)" in checked.output, checked.output
    result = CliRunner().invoke(cli.app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output
    assert "7,043 customers, classic schema" in result.output
    assert "age_group (needs Age)" in result.output
    wh = DuckDBWarehouse(tmp_path / "ingest.duckdb", path)
    try:
        assert wh.meta()["customer_schema"] == "classic"
        assert "age" not in wh.schema("customers") and "segment" in wh.schema("customers")
    finally:
        wh.close()
    scored = CliRunner().invoke(cli.app, ["score", "--chunk-rows", "3000"])  # the classic model scores it
    assert scored.exit_code == 0, scored.output
    assert "churn-ensemble-classic" in scored.output and "7,043 customers" in scored.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(classic_bytes(rows=30).replace(b",Month-to-month,", b",Forever,", 1))
    refused = CliRunner().invoke(cli.app, ["ingest", str(bad)])
    assert refused.exit_code == 1 and "Contract" in refused.output
