"""AppTest of the churn-model page: cross-validated metrics from the card, every tab, economics."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from churn_core.config import MODELS_DIR
from churn_core.prediction.business import Economics
from churn_core.prediction.model_selection import candidate_grid
from churn_core.prediction.training import OOF_FILE, load_bundle
from tests.helpers.apptest import open_page, open_tab

pytestmark = pytest.mark.app


@pytest.fixture
def page() -> AppTest:
    return open_page("pages/models.py")


def _open(at: AppTest, name: str) -> AppTest:
    return open_tab(at, "model_tab", "model", name)


def test_headline_metrics_are_the_cross_validated_ones(page: AppTest) -> None:
    ev = load_bundle().card["evaluation"]["extended_features"]["all"]
    metrics = {m.label: m.value for m in page.metric}
    roc = ev["roc_auc"]
    assert metrics["ROC-AUC"] == f"{roc['mean']:.3f} ± {roc['std']:.3f}"
    assert metrics["상위 10% 리프트"].startswith(f"{ev['top_decile_lift']['mean']:.3f}")
    assert any("교차검증" in i.value for i in page.info)


def test_leaderboard_lists_the_whole_grid(page: AppTest) -> None:
    _open(page, "leaderboard")
    board = page.dataframe[0].value
    assert len(board) == len(candidate_grid())
    assert board["roc_auc"].str.contains("±").all()


def test_threshold_follows_the_economics(page: AppTest) -> None:
    import pandas as pd

    _open(page, "profit")
    page.number_input(key="econ_cost").set_value(100.0).run()
    page.slider(key="econ_success").set_value(0.5).run()
    monthly = pd.read_parquet(MODELS_DIR / OOF_FILE)["monthly_charges"]
    expected = Economics(offer_cost_usd=100, success_rate=0.5, value_months=12).global_threshold(monthly)
    assert any(f"**{expected:.2f}**" in m.value for m in page.markdown)
