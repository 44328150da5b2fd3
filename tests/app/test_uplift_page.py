"""The Uplift page and the outreach audience builder's ranking choice (issue #15) in AppTest.

Analysts only; an empty state that says what to run; with a stored model fitted on simulated
outcomes, the Qini curve and the AUUC table, each labelled simulated; on the outreach page, the
ranking by expected incremental profit beside the risk ranking for the chosen audience size.

The module runs on a warehouse of its own, so the uplift folder beside it is its own too."""

from __future__ import annotations

import numpy as np
import pytest

from churn_core.config import get_settings
from churn_core.escaping import markdown_text
from churn_core.formatting import fmt_number
from churn_core.i18n import t
from churn_core.outreach.outcomes import simulated_churn
from churn_core.studio import shared_warehouse
from churn_core.uplift import storage
from churn_core.uplift.evaluation import evaluate
from churn_core.uplift.model import UpliftModel
from tests.helpers.apptest import open_page

pytestmark = pytest.mark.app

PAGE = "pages/uplift.py"


@pytest.fixture(scope="module", autouse=True)
def own_warehouse(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CHURN_WAREHOUSE_PATH", str(tmp_path_factory.mktemp("uplift") / "warehouse.duckdb"))
    get_settings.cache_clear()
    shared_warehouse(get_settings()).ensure_built()
    yield
    mp.undo()
    get_settings.cache_clear()


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _store_model(customers) -> None:
    """A small model fitted on simulated outcomes, stored where the app looks (beside its warehouse)."""
    rng = np.random.default_rng(0)
    treated = rng.random(len(customers)) < 0.5
    p = np.where(customers["contract"] == "Month-to-month", 0.45, 0.1)
    y = simulated_churn(p, treated, customers["contract"], "m2m_only", rng)
    template = UpliftModel(n_estimators=30)
    evaluation = evaluate(template, customers, y, treated, p, n_splits=2, simulated=True)
    model = template.fit(customers, y, treated)
    card = {"campaigns": ["pilot<b>"], "simulated": True, "assumptions": ["m2m_only"], "n": len(y)}
    storage.save_uplift(model, storage.uplift_dir(get_settings()), card, evaluation)


@pytest.mark.parametrize("role", ["marketer", "staff"])
def test_only_analysts_open_the_page(role) -> None:
    at = open_page(PAGE, role=role)
    assert not at.exception, at.exception
    why = t("auth.no_permission", "ko", role=t(f"role.{role}", "ko"), permission=t("auth.perm_uplift", "ko"))
    assert why in _texts(at.warning)
    assert not at.get("plotly_chart") and not at.dataframe


def test_empty_state_then_the_stored_evaluation(customers) -> None:
    at = open_page(PAGE, role="analyst")
    assert not at.exception, at.exception
    assert [h.value for h in at.title] == [t("uplift.title", "ko")]
    assert t("uplift.empty", "ko") in _texts(at.info)
    assert "churn-studio uplift fit" in _texts(at.code)
    assert not at.get("plotly_chart")

    _store_model(customers)
    evaluation = storage.read_evaluation(storage.uplift_dir(get_settings()))
    at = open_page(PAGE, role="analyst")
    assert not at.exception, at.exception
    assert t("uplift.simulated", "ko", assumption=markdown_text("m2m_only")) in _texts(at.warning)
    assert "pilot\\<b\\>" in _texts(at.caption)  # a campaign id from users: escaped Markdown
    assert len(at.get("plotly_chart")) == 1
    shown = at.dataframe[0].value
    assert list(shown.iloc[:, 0]) == [t(f"uplift.ranking_{r}", "ko") for r in ("uplift", "risk", "random")]
    assert list(shown.iloc[:, 1]) == [fmt_number(v, 1) for v in evaluation.table["qini"]]
    assert list(shown.iloc[:, 2]) == [fmt_number(v, 1) for v in evaluation.table["auuc"]]
    simulated = t("uplift.simulated_suffix", "ko")
    assert at.subheader[0].value == t("uplift.table_title", "ko") + simulated


def test_outreach_ranks_by_expected_profit_beside_risk(customers) -> None:
    directory = storage.uplift_dir(get_settings())
    if storage.read_card(directory) is None:
        _store_model(customers)
    at = open_page("pages/outreach.py", role="staff")
    assert not at.exception, at.exception
    assert at.radio(key="o_rank").value == "risk"  # churn risk first by default: the audience as before
    size = 40
    at.number_input(key="o_rank_size").set_value(size).run()
    at.radio(key="o_rank").set_value("profit").run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert labels.count(t("uplift.expected_kept", "ko")) == 2 and labels.count(t("uplift.expected_profit", "ko")) == 2
    kept = [float(m.value.replace(",", "")) for m in at.metric if m.label == t("uplift.expected_kept", "ko")]
    profit = [float(m.value.removeprefix("USD ").replace(",", "")) for m in at.metric
              if m.label == t("uplift.expected_profit", "ko")]  # fmt: skip
    assert profit[0] >= profit[1]  # the profit ranking's top 40 earn at least the risk ranking's top 40
    assert all(k == k for k in kept)  # numbers, not NaN
    assert t("uplift.simulated", "ko", assumption=markdown_text("m2m_only")) in _texts(at.warning)
    audience_size = next(m for m in at.metric if m.label == t("out.audience_size", "ko"))
    assert audience_size.value == f"{size:,}"  # the chosen size is what would be planned
