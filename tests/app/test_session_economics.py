"""Offer economics set on one page (cost, success rate, months) hold on every page for the session."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from churn_core.config import MODELS_DIR
from churn_core.i18n import fmt_usd, t
from churn_core.prediction.business import Economics
from churn_core.prediction.features import feature_frame
from churn_core.prediction.training import OOF_FILE, load_bundle
from tests.helpers.apptest import open_page, open_tab

pytestmark = pytest.mark.app

#: Economics unlike the settings' defaults.
SET = Economics(offer_cost_usd=100.0, success_rate=0.5, value_months=24)


def _inputs(at: AppTest) -> Economics:
    return Economics(
        offer_cost_usd=at.number_input(key="econ_cost").value,
        success_rate=at.slider(key="econ_success").value,
        value_months=at.slider(key="econ_months").value,
    )


def _set(at: AppTest, economics: Economics) -> AppTest:
    at.number_input(key="econ_cost").set_value(economics.offer_cost_usd).run()
    at.slider(key="econ_success").set_value(economics.success_rate).run()
    at.slider(key="econ_months").set_value(economics.value_months).run()
    assert not at.exception, at.exception
    return at


def test_settings_defaults_differ_from_the_test_values() -> None:
    assert Economics.from_settings() != SET  # otherwise the tests below could not fail


def test_economics_set_on_models_hold_on_scoring_after_another_page(customers) -> None:
    at = _set(open_page("pages/models.py", role="analyst"), SET)
    at.switch_page("Home.py").run()  # a page without these inputs: Streamlit drops their widget state
    at.switch_page("pages/scoring.py").run()
    assert not at.exception, at.exception
    assert _inputs(at) == SET
    customer = customers.iloc[[0]]
    at.selectbox(key="score_customer").select(customer["customer_id"].iloc[0]).run()
    proba = load_bundle().model.predict_proba(feature_frame(customer))[:, 1]
    expected = SET.expected_profit(proba, customer["monthly_charges"].to_numpy())[0]
    shown = next(m.value for m in at.metric if m.label == t("score.expected_profit", "ko"))
    assert shown == fmt_usd(expected)


def test_economics_set_on_scoring_hold_on_models_after_another_page() -> None:
    at = _set(open_page("pages/scoring.py", role="analyst"), SET)
    at.switch_page("pages/eda.py").run()
    at.switch_page("pages/models.py").run()
    assert _inputs(at) == SET
    open_tab(at, "model_tab", "model", "profit")
    monthly = pd.read_parquet(MODELS_DIR / OOF_FILE)["monthly_charges"]
    assert any(f"**{SET.global_threshold(monthly):.2f}**" in m.value for m in at.markdown)


def test_economics_survive_a_language_switch() -> None:
    at = _set(open_page("pages/models.py", role="analyst"), SET)
    at.selectbox(key="_lang_widget").select("en").run()
    at.switch_page("Home.py").run()
    at.switch_page("pages/models.py").run()
    assert _inputs(at) == SET
