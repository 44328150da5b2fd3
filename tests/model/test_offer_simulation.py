"""The retention-offer simulator on survival curves, computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from churn_core.analytics.offer_simulation import Campaign, break_even_reduction, improved_survival, simulate

pytestmark = pytest.mark.model


def test_campaign_simulator_hand_computed() -> None:
    surv = np.array([[0.9, 0.81]])  # 10 % monthly hazard
    assert improved_survival(surv, 0.5) == pytest.approx(np.array([[0.95, 0.9025]]))
    result = simulate([100.0], surv, Campaign(discount=0.1, uptake=1.0, churn_reduction=0.5), horizons=(2,)).iloc[0]
    assert result["revenue_without_usd"] == pytest.approx(171.0)
    assert result["revenue_with_usd"] == pytest.approx(100 * 0.9 * (0.95 + 0.9025))
    assert result["discount_cost_usd"] == pytest.approx(10 * (0.95 + 0.9025))
    assert result["customers_with"] == pytest.approx(0.9025)
    # no discount: any reduction pays; the break-even needs no reduction at all
    assert break_even_reduction([100.0], surv, Campaign(discount=0.0, uptake=1.0), horizon=2) == 0.0


def test_evaluate_offer_is_the_simulator_on_the_models_curves(customers) -> None:
    from churn_core.analytics import offer_simulation as sim
    from churn_core.analytics.survival import SurvivalModel

    model = SurvivalModel("weibull").fit(customers.sample(1500, random_state=0))
    chosen = customers[customers["is_senior"]].head(80)
    campaign = Campaign(discount=0.1, uptake=0.5, churn_reduction=0.2)
    offer = sim.evaluate_offer(model, chosen, campaign)
    surv = model.conditional_survival(chosen, 24)
    assert offer.result.equals(simulate(chosen["monthly_charges"], surv, campaign))
    assert offer.break_even == break_even_reduction(chosen["monthly_charges"], surv, campaign)
    assert offer.sensitivity.equals(sim.sensitivity(chosen["monthly_charges"], surv, campaign))
    assert sim.audience_options(customers.assign(segment=[0, 1] * (len(customers) // 2) + [1] * (len(customers) % 2)))[
        :4
    ] == ["at_risk_seniors", "seniors", 0, 1]
