"""Data drift (issue #14): the PSI formula, fixed reference bins, summaries without IDs, and a
deliberately shifted next month flagged while an unshifted one is not. The frames are built here
from the real customers (no dependence on the synthetic-snapshot generator)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from churn_core.config import Settings
from churn_core.monitoring import drift
from churn_core.monitoring.runs import SCORE_EDGES, RunSummary, feature_kinds

pytestmark = pytest.mark.unit


def next_month(customers: pd.DataFrame) -> pd.DataFrame:
    """The same customers a month later without any drift: tenure + 1, one more month billed."""
    out = customers.copy()
    out["tenure"] = out["tenure"] + 1
    out["total_charges"] = out["total_charges"] + out["monthly_charges"]
    return out


def shifted_month(customers: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """A month later with a documented shift: 30 % of DSL customers move to fibre, fibre charges + 15 %."""
    out = next_month(customers)
    rng = np.random.default_rng(seed)
    dsl = out.index[out["internet_service"] == "DSL"]
    out.loc[rng.choice(dsl, size=int(0.3 * len(dsl)), replace=False), "internet_service"] = "Fiber optic"
    fibre = out["internet_service"] == "Fiber optic"
    out.loc[fibre, "monthly_charges"] = out.loc[fibre, "monthly_charges"] * 1.15
    return out


def test_psi_is_the_documented_formula() -> None:
    e, a = np.array([50, 30, 20]), np.array([30, 30, 40])
    pe, pa = e / e.sum(), a / a.sum()
    assert drift.psi(e, a) == pytest.approx(float(np.sum((pa - pe) * np.log(pa / pe))))
    assert drift.psi(e, e * 3) == pytest.approx(0.0)  # shares, not counts
    assert drift.psi(e, a) == pytest.approx(drift.psi(a, e))  # symmetric
    # an empty bin counts as EPSILON; a bin empty on both sides adds nothing
    got = drift.psi([100, 0, 0], [90, 10, 0])
    want = (0.9 - 1.0) * math.log(0.9) + (0.1 - drift.EPSILON) * math.log(0.1 / drift.EPSILON)
    assert got == pytest.approx(want)
    assert math.isnan(drift.psi([0, 0], [1, 2]))
    with pytest.raises(ValueError, match="different bins"):
        drift.psi([1, 2], [1, 2, 3])


def test_status_follows_the_thresholds_in_settings() -> None:
    s = Settings(_env_file=None, psi_warn=0.05, psi_alert=0.5)
    assert [drift.status(v, s) for v in (0.01, 0.05, 0.3, 0.5, float("nan"))] == ["ok", "warn", "warn", "alert", "warn"]
    default = Settings(_env_file=None)
    assert (default.psi_warn, default.psi_alert) == (0.1, 0.2)


def test_unshifted_month_is_stable_and_shifted_month_is_flagged(customers) -> None:
    s = Settings(_env_file=None)
    calm = drift.frame_drift(customers, next_month(customers), s).set_index("feature")
    moved = drift.frame_drift(customers, shifted_month(customers), s).set_index("feature")
    print("unshifted PSI:", calm["psi"].round(4).head(4).to_dict())
    print("shifted PSI:", moved["psi"].round(4).head(4).to_dict())
    assert (calm["status"] == "ok").all(), calm[calm["status"] != "ok"]
    assert calm["psi"].max() < s.psi_warn
    assert moved.loc["monthly_charges", "status"] == "alert"
    assert moved.loc["internet_service", "psi"] > 10 * calm.loc["internet_service", "psi"]
    # only the shifted features move: the rest is as stable as the unshifted month
    others = moved.index.difference(["monthly_charges", "internet_service"])
    assert moved.loc[others, "psi"].to_numpy() == pytest.approx(calm.loc[others, "psi"].to_numpy())


def test_the_stored_summary_gives_the_same_drift_as_the_frames(customers) -> None:
    """A run's JSON summary (what scoring_runs keeps) is enough to compute its drift."""
    current = shifted_month(customers)
    summary = RunSummary(drift.bins_of(customers))
    for start in range(0, len(current), 1000):  # streamed in chunks, as a batch run adds them
        part = current.iloc[start : start + 1000]
        summary.add(part, np.linspace(0, 1, len(part)))
    stored = json.loads(json.dumps(summary.feature_summary()))
    from_summary = drift.summary_drift(customers, stored).set_index("feature")["psi"]
    from_frames = drift.frame_drift(customers, current).set_index("feature")["psi"]
    assert from_summary.sort_index().to_numpy() == pytest.approx(from_frames.sort_index().to_numpy())


def test_summaries_hold_no_ids_and_use_the_reference_bins(customers) -> None:
    bins = drift.bins_of(customers)
    assert len(bins["tenure"]) == 9 and bins["tenure"] == sorted(bins["tenure"])
    assert len(bins["total_refunds"]) < 9  # mostly zero: ties collapse deciles into fewer bins
    summary = RunSummary(bins)
    p = np.random.default_rng(0).uniform(size=len(customers))
    summary.add(customers, p)
    text = json.dumps(summary.feature_summary()) + json.dumps(summary.score_summary())
    assert not any(cid in text for cid in customers["customer_id"].head(500))
    features = summary.feature_summary()["features"]
    assert set(features) == set(feature_kinds(customers.columns)) and "customer_id" not in features
    tenure = features["tenure"]
    assert tenure["edges"] == bins["tenure"] and sum(tenure["hist"]) == len(customers)
    assert tenure["mean"] == pytest.approx(customers["tenure"].mean())
    assert tenure["std"] == pytest.approx(customers["tenure"].std())
    assert tenure["quantiles"]["0.5"] == pytest.approx(customers["tenure"].median())
    assert features["contract"]["counts"] == customers["contract"].value_counts().to_dict()
    scores = summary.score_summary()
    assert scores["edges"] == list(SCORE_EDGES) and len(scores["hist"]) == 10 and sum(scores["hist"]) == len(p)
    assert scores["mean"] == pytest.approx(p.mean())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        summary.add(customers.head(2), [0.5, 1.5])


def test_a_feature_going_blank_is_drift_not_fewer_rows(customers) -> None:
    """Missing values are a bin of their own: half the monthly charges blank is an alert."""
    current = customers.copy()
    current.loc[current.index[::2], "monthly_charges"] = float("nan")
    table = drift.frame_drift(customers, current).set_index("feature")
    assert table.loc["monthly_charges", "status"] == "alert"
    assert table.loc["tenure", "status"] == "ok"
