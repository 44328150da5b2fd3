"""Ranking an audience by expected incremental profit (issue #15): hand-computed on four customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.uplift.targeting import choose_audience, compare_rankings, rank_by_profit

pytestmark = pytest.mark.unit


def _audience() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "churn_probability": [0.9, 0.8, 0.5, 0.3]})


def test_profit_is_uplift_times_value_minus_cost_and_ranks_first() -> None:
    uplift = [0.01, 0.20, 0.10, 0.30]
    value = [1000.0, 500.0, 2000.0, 100.0]
    ranked = rank_by_profit(_audience(), uplift, value, offer_cost_usd=50.0)
    # profit: a 10-50 = -40, b 100-50 = 50, c 200-50 = 150, d 30-50 = -20
    assert list(ranked["customer_id"]) == ["c", "b", "d", "a"]
    assert ranked["expected_profit_usd"].tolist() == pytest.approx([150.0, 50.0, -20.0, -40.0])
    assert ranked["cumulative_kept"].tolist() == pytest.approx([0.10, 0.30, 0.60, 0.61])
    assert ranked["cumulative_profit_usd"].tolist() == pytest.approx([150.0, 200.0, 180.0, 140.0])

    profit, risk = compare_rankings(ranked, 2, 50.0)
    assert (profit.ranking, profit.size) == ("profit", 2)
    assert profit.expected_kept == pytest.approx(0.30) and profit.expected_profit_usd == pytest.approx(200.0)
    assert risk.ranking == "risk"  # a and b: the two riskiest, same uplift estimates
    assert risk.expected_kept == pytest.approx(0.21) and risk.expected_profit_usd == pytest.approx(10.0)
    assert profit.offer_cost_usd == risk.offer_cost_usd == 100.0

    assert list(choose_audience(ranked, "risk", 3)["customer_id"]) == ["a", "b", "c"]
    assert list(choose_audience(ranked, "profit", 3)["customer_id"]) == ["c", "b", "d"]


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match=r"uplift is missing or not finite at rows \[2\]"):
        rank_by_profit(_audience(), [0.1, 0.1, np.nan, 0.1], 100.0, 10.0)
    with pytest.raises(ValueError, match="value_usd must have one value per customer"):
        rank_by_profit(_audience(), [0.1] * 4, [1.0, 2.0], 10.0)
    with pytest.raises(ValueError, match="offer_cost_usd"):
        rank_by_profit(_audience(), [0.1] * 4, 100.0, -1.0)
    ranked = rank_by_profit(_audience(), [0.1] * 4, 100.0, 10.0)
    with pytest.raises(ValueError, match="between 0 and 4"):
        compare_rankings(ranked, 5, 10.0)
    with pytest.raises(ValueError, match="ranking must be one of"):
        choose_audience(ranked, "uplift", 1)


def test_the_model_ranking_is_supported_only_when_it_beats_risk_first() -> None:
    from churn_core.uplift.evaluation import UpliftEvaluation

    def evaluation(model: float, risk: float) -> UpliftEvaluation:
        table = pd.DataFrame({"ranking": ["uplift", "risk", "random"], "qini": [model, risk, 0.0],
                              "auuc": [0.0] * 3, "kept_top_30": [0.0] * 3})  # fmt: skip
        empty = pd.DataFrame()
        return UpliftEvaluation(empty, empty, table, 10, 5, 5, 2, 0.0, np.array([]))

    assert evaluation(5.0, 3.0).beats_risk
    assert not evaluation(-2.8, 3.5).beats_risk  # the 421-customer demo pilot: noise
    assert not evaluation(4.0, 6.0).beats_risk and not evaluation(-1.0, -3.0).beats_risk
    assert evaluation(4.0, 6.0).qini_of("risk") == 6.0
