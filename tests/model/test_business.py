"""Expected-profit threshold, risk score and tiers, retention rules."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from churn_core.prediction.business import RISK_TIERS, Economics, profit_curve, recommend, risk_score, risk_tier

pytestmark = pytest.mark.model


def test_threshold_is_break_even_of_expected_profit() -> None:
    econ = Economics(offer_cost_usd=60, success_rate=0.25, value_months=12)
    # value = 80 USD/month x 12 = 960 USD; break-even p = 60 / (0.25 x 960) = 0.25
    assert econ.threshold(80.0) == pytest.approx(0.25)
    assert econ.expected_profit(0.25, 80.0) == pytest.approx(0.0)
    assert econ.expected_profit(0.5, 80.0) == pytest.approx(0.5 * 0.25 * 960 - 60)
    assert econ.global_threshold([40.0, 120.0]) == pytest.approx(0.25)


def test_profit_curve_counts_real_outcomes() -> None:
    econ = Economics(offer_cost_usd=10, success_rate=0.5, value_months=10)
    curve = profit_curve([1, 0, 1], [0.9, 0.6, 0.2], [20, 20, 20], econ, steps=11)
    # at threshold 0.5: contact the first two; gain = 1*0.5*200 - 10 + 0 - 10 = 80
    row = curve[np.isclose(curve["threshold"], 0.5)].iloc[0]
    assert row["contacted"] == 2 and row["profit_usd"] == pytest.approx(80.0)
    assert curve.iloc[0]["contacted"] == 3


def test_risk_score_and_tiers() -> None:
    proba = np.array([0.0, 0.199, 0.2, 0.45, 0.6, 1.0])
    assert list(risk_score(proba)) == [0, 20, 20, 45, 60, 100]
    assert list(risk_tier(proba)) == ["low", "low", "medium", "high", "very_high", "very_high"]
    # every lower bound of RISK_TIERS is where risk_tier changes tier (inclusive)
    assert risk_tier([RISK_TIERS[0][1]])[0] == RISK_TIERS[0][0]
    for (below, _), (tier, bound) in pairwise(RISK_TIERS):
        assert list(risk_tier([bound - 1e-9, bound])) == [below, tier]


def _customer(**kw) -> pd.Series:
    base = {
        "contract": "Two year", "internet_service": "DSL", "tech_support": "Yes", "online_security": "Yes",
        "payment_method": "Credit card (automatic)", "tenure": 30, "number_of_referrals": 2, "age": 40,
    }  # fmt: skip
    return pd.Series({**base, **kw})


def test_recommendations_follow_the_rules() -> None:
    assert recommend(_customer()) == []
    c = _customer(contract="Month-to-month", internet_service="Fiber optic", tech_support="No", age=71)
    assert recommend(c) == ["longer_contract", "tech_support_trial", "senior_digital_education"]
    assert recommend(_customer(payment_method="Electronic check")) == ["autopay"]


def test_recommendations_bound_to_drivers() -> None:
    c = _customer(contract="Month-to-month", payment_method="Electronic check", age=70)
    assert recommend(c, risk_drivers={"payment_method"}) == ["autopay", "senior_digital_education"]
