"""Batch scoring's fast path (#17): the compiled ensemble and the closed-form Weibull CLV give the
numbers of the plain path; one customer is explained with the same SHAP values."""

from __future__ import annotations

import numpy as np
import pytest

from churn_core.analytics.clv import customer_clv
from churn_core.analytics.survival import SurvivalModel
from churn_core.data.tables import SCORES
from churn_core.prediction.batch import score_chunk
from churn_core.prediction.business import Economics
from churn_core.prediction.compiled import load_compiled
from churn_core.prediction.explain import EnsembleExplainer
from churn_core.prediction.scoring import score_frame, score_one, score_with_clv
from churn_core.prediction.training import load_bundle


@pytest.fixture(scope="module")
def plain(compiled_bundle):
    return load_bundle(compiled_bundle)


@pytest.fixture(scope="module")
def compiled(compiled_bundle, plain):
    return load_compiled(compiled_bundle, plain.model, plain.background)


@pytest.fixture(scope="module")
def weibull(customers) -> SurvivalModel:
    return SurvivalModel("weibull").fit(customers.sample(3000, random_state=0))


def test_closed_form_clv_equals_lifelines(weibull, customers, plain):
    economics = Economics()
    reference = customer_clv(weibull, customers)
    for clv_rows in (20_000, 1_000):  # one piece, and sub-chunks of 1,000 rows
        _, fast = score_with_clv(plain.model, weibull, customers, economics, clv_rows=clv_rows)
        assert fast["customer_id"].tolist() == reference["customer_id"].tolist()
        for column in ("expected_months", "clv_usd", "revenue_at_risk_12m_usd"):
            np.testing.assert_allclose(fast[column].to_numpy(), reference[column].to_numpy(), rtol=1e-10, atol=1e-9)


def test_closed_form_clv_refuses_a_level_the_survival_model_never_saw(weibull, customers, plain):
    odd = customers.iloc[:5].copy()
    odd.loc[odd.index[0], "contract"] = "Three year"
    with pytest.raises(ValueError, match="contract"):
        score_with_clv(plain.model, weibull, odd, Economics())


def test_other_survival_models_go_through_lifelines(customers, plain):
    cox = SurvivalModel("cox").fit(customers.sample(2000, random_state=1))
    _, clv = score_with_clv(plain.model, cox, customers.iloc[:300], Economics(), clv_rows=100)
    expected = customer_clv(cox, customers.iloc[:300])
    np.testing.assert_allclose(clv["clv_usd"].to_numpy(), expected["clv_usd"].to_numpy())


def test_a_batch_chunk_scored_compiled_equals_the_plain_chunk(compiled, plain, weibull, customers):
    economics = Economics()
    fast = score_chunk(compiled, weibull, customers, economics, "run-a")
    slow = score_chunk(plain.model, weibull, customers, economics, "run-a")
    assert list(fast.columns) == SCORES.names
    assert fast["customer_id"].tolist() == slow["customer_id"].tolist()
    assert np.max(np.abs(fast["churn_probability"] - slow["churn_probability"])) <= 1e-6
    assert fast["risk_tier"].tolist() == slow["risk_tier"].tolist()
    reference_clv = customer_clv(weibull, customers)["clv_usd"].to_numpy()
    np.testing.assert_allclose(fast["clv_usd"].to_numpy(), reference_clv, rtol=1e-10, atol=1e-9)
    plain_frame = score_frame(plain.model, customers.iloc[:50], economics)
    fast_frame = score_frame(compiled, customers.iloc[:50], economics)
    assert np.allclose(plain_frame["expected_profit_usd"], fast_frame["expected_profit_usd"], atol=1e-4)


def test_one_customer_is_explained_alike_by_the_compiled_ensemble(compiled, plain, customers):
    economics = Economics()
    fast_explainer = EnsembleExplainer(compiled, plain.background)
    slow_explainer = EnsembleExplainer(plain.model, plain.background)
    for i in (0, 17, 5000):
        fast_row, fast_contrib = score_one(compiled, customers.iloc[i], fast_explainer, economics)
        slow_row, slow_contrib = score_one(plain.model, customers.iloc[i], slow_explainer, economics)
        assert abs(fast_row["churn_probability"] - slow_row["churn_probability"]) <= 1e-6
        np.testing.assert_allclose(fast_contrib.to_numpy(), slow_contrib.to_numpy(), rtol=1e-6, atol=1e-9)
        for column in ("drivers_up", "drivers_down", "actions", "risk_tier"):
            assert fast_row[column] == slow_row[column]
