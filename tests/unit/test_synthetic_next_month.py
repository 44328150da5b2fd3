"""The synthetic next month (issue #14): stayers only with SYN- IDs, one more month of tenure and of
charges, churn drawn from given probabilities, a documented drift, deterministic by seed, and a file
that passes the same validation as every customer file.

Probabilities here are fixed numbers derived from tenure (the command uses the champion model's):
the point is how the rows are made, not the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.data import synthetic
from churn_core.data.loading import load_any_customers
from churn_core.data.schema import LEAKAGE_COLUMNS

pytestmark = pytest.mark.unit


def _probability(frame: pd.DataFrame) -> np.ndarray:
    return np.clip(0.6 - frame["tenure"].to_numpy() / 120, 0.02, 0.6)


def _month(customers: pd.DataFrame, drift: bool = False, seed: int = 3) -> pd.DataFrame:
    frame = synthetic.next_month_features(customers, drift=drift, seed=seed)
    return synthetic.draw_churn(frame, _probability(frame), seed)


def test_stayers_carry_over_one_month_later(customers) -> None:
    month = _month(customers)
    stayers = customers[customers["churn"] == "No"].sort_values("customer_id").reset_index(drop=True)
    assert len(month) == len(stayers) == 5174
    assert month["customer_id"].str.startswith("SYN-").all()
    assert (month["customer_id"].str.removeprefix("SYN-") == stayers["customer_id"]).all()
    assert (month["tenure"] == stayers["tenure"] + 1).all()
    np.testing.assert_allclose(month["total_charges"], stayers["total_charges"] + stayers["monthly_charges"], atol=0.01)
    np.testing.assert_allclose(month["monthly_charges"], stayers["monthly_charges"])  # no drift: same charges
    grown = stayers["total_revenue"] + stayers["monthly_charges"] + stayers["avg_monthly_long_distance_charges"]
    np.testing.assert_allclose(month["total_revenue"], grown, atol=0.02)


def test_churn_and_leakage_columns_agree(customers) -> None:
    month = _month(customers)
    churned = month["churn"] == "Yes"
    assert 0.1 < churned.mean() < 0.5
    assert (month["churn_flag"] == churned.astype(int)).all()
    assert (month.loc[churned, "customer_status"] == "Churned").all()
    assert set(month.loc[~churned, "customer_status"]) <= {"Stayed", "Joined"}
    assert month.loc[churned, "churn_score"].between(65, 100).all()
    assert month.loc[~churned, "churn_score"].between(5, 80).all()
    assert month.loc[churned, "satisfaction_score"].between(1, 3).all()
    assert (month.loc[~churned, "churn_category"] == "0").all() and month.loc[~churned, "churn_reason"].isna().all()
    assert month.loc[churned, "churn_reason"].notna().all()


def test_same_seed_same_month_other_seed_other_draws(customers) -> None:
    a, b = _month(customers, drift=True, seed=7), _month(customers, drift=True, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = _month(customers, drift=True, seed=8)
    assert not a["churn"].equals(c["churn"]) and not a["internet_service"].equals(c["internet_service"])


def test_drift_moves_dsl_to_fibre_and_raises_fibre_charges(customers) -> None:
    plain = synthetic.next_month_features(customers, drift=False, seed=1)
    drifted = synthetic.next_month_features(customers, drift=True, seed=1)
    dsl_before = (plain["internet_service"] == "DSL").sum()
    moved = (plain["internet_service"] == "DSL") & (drifted["internet_service"] == "Fiber optic")
    assert 0.25 < moved.sum() / dsl_before < 0.35  # 30 % of DSL customers
    assert (
        (drifted["internet_service"] == "Fiber optic").mean() - (plain["internet_service"] == "Fiber optic").mean()
    ) > 0.1
    fibre = plain["internet_service"] == "Fiber optic"  # fibre already: +15 % monthly charges
    ratio = drifted.loc[fibre, "monthly_charges"] / plain.loc[fibre, "monthly_charges"]
    np.testing.assert_allclose(ratio, 1.15, atol=0.002)
    np.testing.assert_allclose(
        drifted["total_charges"] - (plain["total_charges"] - plain["monthly_charges"]),
        drifted["monthly_charges"],
        atol=0.02,
    )  # the drifted month's charges are the ones added to the totals


def test_written_file_validates_and_models_never_see_the_synthetic_leakage(customers, tmp_path) -> None:
    month = _month(customers, drift=True)
    path = synthetic.write_snapshot_csv(month, tmp_path / "snapshots" / "next.csv")
    loaded = load_any_customers(path)  # the same validation as every customer file
    assert len(loaded) == len(month) and loaded.attrs["schema"] == "extended"
    assert (loaded["churn_flag"] == (loaded["churn"] == "Yes").astype(int)).all()
    from churn_core.prediction.features import MODEL_FEATURES

    assert not set(LEAKAGE_COLUMNS) & set(MODEL_FEATURES)


def test_draw_churn_refuses_bad_probabilities(customers) -> None:
    frame = synthetic.next_month_features(customers[customers["churn"] == "No"].head(50), drift=False, seed=0)
    assert len(frame) == 50
    with pytest.raises(ValueError, match="probability"):
        synthetic.draw_churn(frame, np.full(len(frame) + 1, 0.5), 0)
    with pytest.raises(ValueError, match="probability"):
        synthetic.draw_churn(frame, np.full(len(frame), 1.5), 0)
