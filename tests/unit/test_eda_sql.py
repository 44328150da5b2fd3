"""Every SQL aggregation of churn_core.analytics.eda equals the same figure computed with pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from churn_core.analytics import eda
from churn_core.analytics.eda import EdaFilters
from tests.helpers.reference import reference_filter

pytestmark = pytest.mark.unit

FILTER_CASES = {
    "everyone": EdaFilters(),
    "seniors": EdaFilters(senior_only=True),
    "month-to-month-fiber": EdaFilters(contracts=("Month-to-month",), internet_services=("Fiber optic",)),
    "women-echeck-first-year": EdaFilters(
        genders=("Female",), payment_methods=("Electronic check",), tenure_min=1, tenure_max=12
    ),
    "age-groups-offers": EdaFilters(age_groups=("65-69", "80+"), offers=("None", "Offer E")),
    "segments": EdaFilters(segments=(0, 2)),
}


@pytest.fixture(params=list(FILTER_CASES), scope="module")
def case(request, warehouse_table, warehouse):
    f = FILTER_CASES[request.param]
    sub = reference_filter(warehouse_table, f)
    assert len(sub) > 0
    return f, sub


def test_kpis(case, warehouse) -> None:
    f, sub = case
    k = eda.kpis(warehouse, f)
    seniors = sub[sub["is_senior"]]
    others = sub[~sub["is_senior"]]
    assert k["customers"] == len(sub)
    assert k["churned"] == sub["churn_flag"].sum()
    assert k["churn_rate"] == pytest.approx(sub["churn_flag"].mean())
    assert k["senior_customers"] == len(seniors)
    if len(others):
        assert k["other_churn_rate"] == pytest.approx(others["churn_flag"].mean())
    else:
        assert np.isnan(k["other_churn_rate"])
    assert k["mrr_lost_usd"] == pytest.approx(sub.loc[sub["churn_flag"] == 1, "monthly_charges"].sum())
    assert k["mrr_usd"] == pytest.approx(sub["monthly_charges"].sum())
    assert k["mrr_lost_share"] == pytest.approx(k["mrr_lost_usd"] / k["mrr_usd"])
    if len(seniors) and len(others):
        gap = 100 * (seniors["churn_flag"].mean() - others["churn_flag"].mean())
        assert k["senior_gap_pp"] == pytest.approx(gap)


def test_headline_numbers(warehouse) -> None:
    k = eda.kpis(warehouse)
    assert (k["customers"], k["churned"]) == (7043, 1869)
    assert round(100 * k["churn_rate"], 1) == 26.5
    assert round(100 * k["senior_churn_rate"], 1) == 41.7
    assert round(100 * k["other_churn_rate"], 1) == 23.6
    assert k["mrr_lost_usd"] == pytest.approx(139_130.85)


def test_churn_by_category(case, warehouse) -> None:
    f, sub = case
    got = eda.churn_by_category(warehouse, f)
    for feature in eda.CATEGORICAL_FEATURES:
        expected = sub.groupby(
            sub[feature].astype(str).str.lower() if feature == "is_senior" else sub[feature].astype(str)
        )["churn_flag"].agg(["size", "sum"])
        rows = got[got["feature"] == feature].set_index("level")
        assert set(rows.index) == set(expected.index), feature
        assert (rows.loc[expected.index, "n"].to_numpy() == expected["size"].to_numpy()).all(), feature
        assert (rows.loc[expected.index, "churned"].to_numpy() == expected["sum"].to_numpy()).all(), feature
    assert ((got["ci_low"] <= got["churn_rate"]) & (got["churn_rate"] <= got["ci_high"])).all()


def test_category_order(warehouse) -> None:
    got = eda.churn_by_category(warehouse)
    assert list(got.loc[got["feature"] == "age_group", "level"]) == list(eda.LEVEL_ORDER["age_group"])
    payment = got[got["feature"] == "payment_method"]["churn_rate"]
    assert payment.is_monotonic_decreasing


def test_wilson_interval_hand_computed() -> None:
    # Wilson 95% for 476 / 1142: centre (p + z²/2n)/(1 + z²/n),
    # half-width z·sqrt(p(1-p)/n + z²/4n²)/(1 + z²/n).
    n, k, z = 1142, 476, norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    got = eda.add_rate_ci(pd.DataFrame({"n": [n], "churned": [k]})).iloc[0]
    assert got["ci_low"] == pytest.approx(centre - half)
    assert got["ci_high"] == pytest.approx(centre + half)


def test_churn_by_tenure(case, warehouse) -> None:
    f, sub = case
    got = eda.churn_by_tenure(warehouse, f).set_index("tenure")
    expected = sub.groupby("tenure")["churn_flag"].agg(["size", "mean"])
    assert list(got.index) == list(expected.index)
    assert np.allclose(got["churn_rate"], expected["mean"])
    assert (got["n"].to_numpy() == expected["size"].to_numpy()).all()


def test_numeric_histograms(case, warehouse, warehouse_table) -> None:
    f, sub = case
    bins = 20
    got = eda.numeric_histograms(warehouse, f, bins=bins)
    for feature in eda.NUMERIC_FEATURES:
        x = sub[feature].astype(float)
        # bins between the minimum and maximum over all customers (shared by every filter: #17)
        lo, hi = warehouse_table[feature].astype(float).min(), warehouse_table[feature].astype(float).max()
        idx = (
            np.zeros(len(x), dtype=int) if hi == lo else np.minimum(((x - lo) / (hi - lo) * bins).astype(int), bins - 1)
        )
        expected = pd.DataFrame({"bin": idx, "churn_flag": sub["churn_flag"]}).value_counts().sort_index()
        rows = got[got["feature"] == feature].set_index(["bin", "churn_flag"])["n"].sort_index()
        assert rows.to_dict() == expected.to_dict(), feature


def test_senior_comparison(case, warehouse) -> None:
    f, sub = case
    profile, by_feature = eda.senior_comparison(warehouse, f)
    for row in profile.itertuples():
        grp = sub[sub["is_senior"] == row.is_senior]
        assert row.n == len(grp)
        assert row.monthly_charges == pytest.approx(grp["monthly_charges"].mean())
        assert row.tenure == pytest.approx(grp["tenure"].mean())
    contract = by_feature[by_feature["feature"] == "contract"]
    expected = sub.groupby(["is_senior", "contract"])["churn_flag"].sum()
    for row in contract.itertuples():
        assert row.churned == expected[(row.is_senior, row.level)]


def test_churn_reasons(case, warehouse) -> None:
    f, sub = case
    got = eda.churn_reasons(warehouse, f)
    churned = sub[sub["churn_flag"] == 1]
    expected = churned.groupby(["churn_category", churned["churn_reason"].fillna("Unknown")]).size()
    assert (
        got.set_index(["churn_category", "churn_reason"])["n"].sort_index().to_dict() == expected.sort_index().to_dict()
    )
    assert got["share"].sum() == pytest.approx(1.0)


def test_correlations(case, warehouse) -> None:
    f, sub = case
    got = eda.correlations(warehouse, f)
    expected = sub[list(eda.CORRELATION_COLUMNS)].astype(float).corr()
    assert np.allclose(got.to_numpy(), expected.to_numpy(), equal_nan=True, atol=1e-9)


def test_filtered_customers(case, warehouse) -> None:
    f, sub = case
    got = eda.filtered_customers(warehouse, f, limit=50)
    assert list(got["customer_id"]) == sorted(sub["customer_id"])[:50]


def test_empty_selection(warehouse) -> None:
    f = EdaFilters(senior_only=True, age_groups=("<30",))
    k = eda.kpis(warehouse, f)
    assert k["customers"] == 0 and np.isnan(k["churn_rate"])
    assert eda.churn_by_category(warehouse, f).empty
    assert eda.churn_reasons(warehouse, f).empty


def test_segment_profile_is_pushed_down(warehouse, warehouse_table) -> None:
    from churn_core.analytics import segments as sg

    got = eda.segment_profile(warehouse).set_index("segment")
    want = sg.profile(warehouse_table, warehouse_table["segment"]).set_index("segment")
    assert got["customers"].tolist() == want["customers"].tolist()
    for col in ("churn_rate", "monthly_charges", "total_revenue", "age", "n_services", "senior_share", "tenure"):
        assert np.allclose(got[col].astype(float), want[col].astype(float)), col
