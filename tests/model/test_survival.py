"""Survival analysis and CLV: revenue identity, CLV formula by hand, held-out concordance."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from churn_core import survival as sv

pytestmark = pytest.mark.model


def test_total_revenue_is_an_identity_of_the_charges(customers) -> None:
    table = sv.revenue_identity(customers)
    billed = ~customers["total_charges_was_blank"].to_numpy()
    assert np.abs(table["residual"].to_numpy()[billed]).max() < 1e-6
    # only the 11 unbilled customers (blank TotalCharges loaded as 0.0) break it
    assert (np.abs(table["residual"]) > 1e-6).sum() == 11


def test_clv_formula_hand_computed() -> None:
    # margin 10 USD/month, survival 0.9 then 0.81, annual discount 12.68 % (= 1 % a month)
    d = 1.01**12 - 1
    clv = sv.clv_from_survival([10.0], [[0.9, 0.81]], d)
    assert clv[0] == pytest.approx(10 * 0.9 / 1.01 + 10 * 0.81 / 1.01**2)
    # no churn, no discount: margin x horizon
    assert sv.clv_from_survival([5.0], [[1.0] * 60], 0.0)[0] == pytest.approx(300.0)


def test_covariates_never_encode_the_duration() -> None:
    assert not set(sv.DURATION_ENCODING) & {*sv.SURVIVAL_CATEGORICAL, *sv.SURVIVAL_NUMERIC}


@pytest.fixture(scope="module")
def split(customers):
    return train_test_split(customers, test_size=0.25, random_state=0, stratify=customers["churn_flag"])


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
    clv = sv.customer_clv(model, test.head(50))
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


def test_campaign_simulator_hand_computed() -> None:
    from churn_core.campaign import Campaign, break_even_reduction, improved_survival, simulate

    surv = np.array([[0.9, 0.81]])  # 10 % monthly hazard
    assert improved_survival(surv, 0.5) == pytest.approx(np.array([[0.95, 0.9025]]))
    result = simulate([100.0], surv, Campaign(discount=0.1, uptake=1.0, churn_reduction=0.5), horizons=(2,)).iloc[0]
    assert result["revenue_without_usd"] == pytest.approx(171.0)
    assert result["revenue_with_usd"] == pytest.approx(100 * 0.9 * (0.95 + 0.9025))
    assert result["discount_cost_usd"] == pytest.approx(10 * (0.95 + 0.9025))
    assert result["customers_with"] == pytest.approx(0.9025)
    # no discount: any reduction pays; the break-even needs no reduction at all
    assert break_even_reduction([100.0], surv, Campaign(discount=0.0, uptake=1.0), horizon=2) == 0.0


def test_segments_k_by_silhouette_and_profiles(customers, warehouse_table) -> None:
    from churn_core import segments as sg

    seg = sg.Segmenter(k_values=(2, 3, 4)).fit(customers)
    assert seg.k_ == int(seg.scores_.loc[seg.scores_["silhouette"].idxmax(), "k"])
    labels = seg.predict(customers)
    prof = sg.profile(customers, labels)
    assert prof["customers"].sum() == len(customers)
    assert prof["churn_rate"].max() - prof["churn_rate"].min() > 0.2  # segments differ in churn
    # the warehouse stores the same deterministic segmentation (full k range)
    full = sg.Segmenter().fit(customers).predict(customers)
    assert (warehouse_table.set_index("customer_id").loc[customers["customer_id"], "segment"].to_numpy() == full).all()
    loadings = sg.factor_loadings(customers)
    assert loadings.shape == (len(sg.SERVICES), 3)
    assert any("streaming_movies" in names for names in sg.factor_labels(loadings).values())
    proj = sg.projection(customers, labels)
    assert proj.shape == (len(customers), 4)


def test_revenue_at_risk_by_segment_adds_up(split) -> None:
    train, test = split
    model = sv.SurvivalModel("weibull").fit(train)
    clv = sv.customer_clv(model, test)
    by = sv.revenue_at_risk_by(clv, test, "contract")
    assert by["customers"].sum() == len(test)
    assert by["revenue_at_risk_12m_usd"].sum() == pytest.approx(clv["revenue_at_risk_12m_usd"].sum())
    assert by.iloc[0]["level"] == "Month-to-month"  # most revenue at risk
