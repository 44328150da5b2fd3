"""Scoring files: validation without target columns, chunked streaming, explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.data.loading import DataValidationError
from churn_core.data.synthetic import grow, to_raw_csv
from churn_core.prediction import evaluation
from churn_core.prediction.business import RISK_TIERS
from churn_core.prediction.ensemble import ChurnEnsemble
from churn_core.prediction.explain import EnsembleExplainer, top_drivers
from churn_core.prediction.features import feature_frame
from churn_core.prediction.scoring import SCORING_RAW_COLUMNS, prepare_for_scoring, score_csv_chunks, score_frame

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def small_model(customers) -> ChurnEnsemble:
    sample = customers.sample(1200, random_state=11)
    return ChurnEnsemble(tune_trials=0, cv=3).fit(feature_frame(sample), sample["churn_flag"].to_numpy())


@pytest.fixture(scope="module")
def raw_subset(customers) -> pd.DataFrame:
    raw = to_raw_csv(customers.head(300))
    return raw.astype(str).replace({"nan": ""})


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_scoring_needs_no_target_or_leakage_columns(small_model, raw_subset) -> None:
    minimal = raw_subset[list(SCORING_RAW_COLUMNS)]
    assert "Churn" not in minimal and "Satisfaction Score" not in minimal
    parts = list(score_csv_chunks(small_model, _csv(minimal.assign(extra="ignored"))))
    scored = pd.concat([p for p, _ in parts])
    assert len(scored) == 300 and parts[-1][1] == 300
    assert scored["churn_probability"].between(0, 1).all()
    assert set(scored["risk_tier"]) <= {"low", "medium", "high", "very_high"} == {tier for tier, _ in RISK_TIERS}


def test_chunked_scoring_equals_whole_table(small_model, customers, raw_subset) -> None:
    chunks = list(score_csv_chunks(small_model, _csv(raw_subset), chunk_rows=64))
    assert [done for _, done in chunks] == [64, 128, 192, 256, 300]
    streamed = pd.concat([p for p, _ in chunks], ignore_index=True)
    whole = score_frame(small_model, customers.head(300))
    assert np.allclose(streamed["churn_probability"], whole["churn_probability"])
    assert list(streamed["customer_id"]) == list(whole["customer_id"])


def test_errors_name_columns_and_lines_across_chunks(small_model, raw_subset) -> None:
    bad = raw_subset.copy()
    bad.loc[150, "Contract"] = "Forever"
    with pytest.raises(DataValidationError) as info:
        list(score_csv_chunks(small_model, _csv(bad), chunk_rows=100))
    problem = info.value.problems.iloc[0]
    assert problem["column"] == "Contract" and problem["lines"] == [152]
    with pytest.raises(DataValidationError, match="Contract"):
        prepare_for_scoring(raw_subset.drop(columns=["Contract"]))
    with pytest.raises(DataValidationError, match="no data rows"):
        list(score_csv_chunks(small_model, _csv(raw_subset.head(0))))


def test_explanations_and_actions(small_model, customers) -> None:
    rows = customers.head(20)
    explainer = EnsembleExplainer(small_model, feature_frame(customers.sample(100, random_state=1)))
    scored = score_frame(small_model, rows, explainer=explainer)
    assert {"drivers_up", "drivers_down", "actions"} <= set(scored.columns)
    contributions = explainer.contributions(feature_frame(rows))
    assert contributions.shape == (20, len(small_model.features))
    up, down = top_drivers(contributions.iloc[0])
    assert up and down
    assert all(contributions.iloc[0][f] > 0 for f in up) and all(contributions.iloc[0][f] < 0 for f in down)
    seniors = scored[rows["age"].to_numpy() >= 65]
    assert len(seniors) and all("senior_digital_education" in a for a in seniors["actions"])


def test_evaluation_curves() -> None:
    y = np.array([0, 0, 1, 1, 0, 1, 0, 0, 1, 0])
    p = np.array([0.1, 0.3, 0.8, 0.6, 0.2, 0.9, 0.4, 0.35, 0.7, 0.05])
    gain = evaluation.cumulative_gain(y, p, steps=10)
    assert gain["share_of_churners_found"].iloc[3] == pytest.approx(1.0)  # top 4 are the 4 churners
    assert gain["lift"].iloc[0] == pytest.approx(1 / 0.4)
    matrix = evaluation.confusion(y, p, 0.5)
    assert matrix.loc["churned", "churned"] == 4 and matrix.to_numpy().sum() == 10


def test_synthetic_rows_are_marked_and_plausible(customers) -> None:
    syn = grow(customers, 5000, seed=3)
    assert syn["customer_id"].str.startswith("SYN-").all() and syn["customer_id"].is_unique
    assert abs(syn["churn_flag"].mean() - customers["churn_flag"].mean()) < 0.03
    assert syn.equals(grow(customers, 5000, seed=3))
