"""Revenue and CLV: the revenue identity, the CLV formula by hand, revenue at risk by level."""

from __future__ import annotations

import numpy as np
import pytest

from churn_core.analytics import clv as cl
from churn_core.analytics.survival import SurvivalModel

pytestmark = pytest.mark.model


def test_total_revenue_is_an_identity_of_the_charges(customers) -> None:
    table = cl.revenue_identity(customers)
    billed = ~customers["total_charges_was_blank"].to_numpy()
    assert np.abs(table["residual"].to_numpy()[billed]).max() < 1e-6
    # only the 11 unbilled customers (blank TotalCharges loaded as 0.0) break it
    assert (np.abs(table["residual"]) > 1e-6).sum() == 11


def test_clv_formula_hand_computed() -> None:
    # margin 10 USD/month, survival 0.9 then 0.81, annual discount 12.68 % (= 1 % a month)
    d = 1.01**12 - 1
    clv = cl.clv_from_survival([10.0], [[0.9, 0.81]], d)
    assert clv[0] == pytest.approx(10 * 0.9 / 1.01 + 10 * 0.81 / 1.01**2)
    # no churn, no discount: margin x horizon
    assert cl.clv_from_survival([5.0], [[1.0] * 60], 0.0)[0] == pytest.approx(300.0)


def test_revenue_at_risk_by_segment_adds_up(split) -> None:
    train, test = split
    model = SurvivalModel("weibull").fit(train)
    clv = cl.customer_clv(model, test)
    by = cl.revenue_at_risk_by(clv, test, "contract")
    assert by["customers"].sum() == len(test)
    assert by["revenue_at_risk_12m_usd"].sum() == pytest.approx(clv["revenue_at_risk_12m_usd"].sum())
    assert by.iloc[0]["level"] == "Month-to-month"  # most revenue at risk


def test_clv_is_matched_by_customer_id_not_by_row_position(split) -> None:
    train, test = split
    model = SurvivalModel("weibull").fit(train)
    clv = cl.customer_clv(model, test.head(300))
    shuffled = clv.sample(frac=1.0, random_state=1)
    assert (cl.clv_by_customer(shuffled, test.head(300)) == clv["clv_usd"].to_numpy()).all()
    by, by_shuffled = (cl.revenue_at_risk_by(c, test.head(300), "contract") for c in (clv, shuffled))
    assert by.equals(by_shuffled)
    # a customer without CLV gets NaN, never a neighbour's value
    assert np.isnan(cl.clv_by_customer(clv.iloc[1:], test.head(2))[0])
