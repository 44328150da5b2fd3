"""Survival analysis of tenure: held-out concordance, conditional survival, Kaplan–Meier, PH check."""

from __future__ import annotations

import numpy as np
import pytest

from churn_core.analytics import survival as sv
from churn_core.analytics.clv import customer_clv

pytestmark = pytest.mark.model


def test_covariates_never_encode_the_duration() -> None:
    assert not set(sv.DURATION_ENCODING) & {*sv.SURVIVAL_CATEGORICAL, *sv.SURVIVAL_NUMERIC}


@pytest.mark.parametrize("kind", ["cox", "weibull"])
def test_held_out_concordance(split, kind) -> None:
    train, test = split
    model = sv.SurvivalModel(kind).fit(train)
    assert model.concordance(test) >= 0.85


def test_conditional_survival_and_clv(split) -> None:
    train, test = split
    model = sv.SurvivalModel("weibull").fit(train)
    surv = model.conditional_survival(test.head(50), horizon=24)
    assert surv.shape == (50, 24)
    assert (np.diff(surv, axis=1) <= 1e-12).all() and ((surv >= 0) & (surv <= 1)).all()
    clv = customer_clv(model, test.head(50))
    assert (clv["clv_usd"] > 0).all() and clv["expected_months"].between(0, 60).all()


def test_kaplan_meier_and_logrank(customers) -> None:
    curves, p = sv.kaplan_meier(customers, "contract")
    assert set(curves["level"]) == {"Month-to-month", "One year", "Two year"}
    last = curves.groupby("level")["survival"].min()
    assert last["Two year"] > last["One year"] > last["Month-to-month"]
    assert p < 1e-10


def test_proportional_hazards_check_flags_offer_and_contract(split) -> None:
    train, _ = split
    violations = sv.SurvivalModel("cox").fit(train).ph_violations(train)
    assert any(name.startswith(("offer_", "contract_")) for name in violations.index)


def test_a_subset_missing_a_level_is_predicted_with_the_training_columns(split) -> None:
    train, test = split
    model = sv.SurvivalModel("weibull").fit(train)
    month_to_month = test[test["contract"] == "Month-to-month"].head(40)  # no "One year" / "Two year" rows
    alone = model.conditional_survival(month_to_month, horizon=12)
    within = model.conditional_survival(test, horizon=12)[test.index.get_indexer(month_to_month.index)]
    assert np.allclose(alone, within)
    with pytest.raises(ValueError, match="not seen"):
        model.conditional_survival(test.head(3).assign(contract="Three year"), horizon=12)
