"""Leakage guard, resampling inside folds, metrics from probabilities, ensemble behaviour."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE

from churn_core.data.schema import CLASSIC_FEATURES, LEAKAGE_COLUMNS, LEAKAGE_COLUMNS_RAW
from churn_core.prediction import model_selection as modeling
from churn_core.prediction.ensemble import ChurnEnsemble, fit_weights
from churn_core.prediction.features import (
    FEATURE_SETS,
    MODEL_FEATURES,
    LeakageError,
    check_no_leakage,
    feature_frame,
)
from churn_core.prediction.metrics import churn_metrics, top_decile_lift

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def sample(customers: pd.DataFrame) -> pd.DataFrame:
    return customers.sample(1500, random_state=7).reset_index(drop=True)


@pytest.mark.parametrize("column", [*LEAKAGE_COLUMNS, *LEAKAGE_COLUMNS_RAW])
def test_no_leakage_column_can_reach_a_model(customers, column) -> None:
    with pytest.raises(LeakageError):
        check_no_leakage([*MODEL_FEATURES, column])
    with pytest.raises(LeakageError):
        modeling.Candidate("logreg", "standard").pipeline([*MODEL_FEATURES, column])
    if column in customers:
        with pytest.raises(LeakageError):
            feature_frame(customers, [*MODEL_FEATURES, column])


def test_feature_sets_are_leakage_free() -> None:
    for features in FEATURE_SETS.values():
        check_no_leakage(features)
    assert len(CLASSIC_FEATURES) == 19
    assert "satisfaction_score" not in MODEL_FEATURES and "cltv" not in MODEL_FEATURES


def test_candidate_grid_is_the_full_grid() -> None:
    grid = modeling.candidate_grid()
    assert {c.family for c in grid} == set(modeling.FAMILIES)
    # scaled families: 3 scalers x 3 resamplers; others 3 resamplers
    assert len(grid) == 2 * 9 + 5 * 3
    assert len({c.name for c in grid}) == len(grid)


class SpySMOTE(SMOTE):
    """SMOTE that records how many rows it was asked to resample."""

    seen: ClassVar[list[int]] = []

    def fit_resample(self, X, y, **params):
        SpySMOTE.seen.append(len(X))
        return super().fit_resample(X, y, **params)


def test_resampling_sees_training_folds_only(sample) -> None:
    X = feature_frame(sample)
    y = sample["churn_flag"].to_numpy()
    senior = sample["is_senior"].to_numpy()
    pipe = modeling.Candidate("logreg", "standard", "smote").pipeline()
    pipe.steps[1] = ("resample", SpySMOTE(random_state=0))
    splits = modeling.cv_splits(y, senior, n_splits=5, n_repeats=1)
    SpySMOTE.seen.clear()
    result = modeling.cross_validate(pipe, X, y, senior, splits, threshold=0.5, n_jobs=1)
    assert SpySMOTE.seen == [len(train) for train, _ in splits]
    assert not np.isnan(result.oof).any() and result.oof.shape == (1, len(y))
    assert set(result.per_fold["group"]) == {"all", "seniors"}


def test_metrics_come_from_probabilities() -> None:
    y = np.array([0, 0, 1, 1])
    proba = np.array([0.1, 0.4, 0.35, 0.8])
    m = churn_metrics(y, proba, threshold=0.5)
    assert m["roc_auc"] == pytest.approx(0.75)  # 3 of 4 (churner, stayer) pairs ordered right
    assert m["recall"] == pytest.approx(0.5) and m["precision"] == pytest.approx(1.0)
    y = np.array([1] + [0] * 9 + [1] * 2 + [0] * 8)
    proba = np.linspace(1, 0, 20)
    assert top_decile_lift(y, proba) == pytest.approx((1 / 2) / (3 / 20))


def test_weights_prefer_the_informative_member() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    good = np.clip(0.5 * y + 0.25 + rng.normal(0, 0.1, 2000), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, 2000)
    w = fit_weights(np.column_stack([good, noise]), y)
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
    assert w[0] > 0.9


def test_small_ensemble_is_calibrated_deterministic_and_uses_declared_features(sample) -> None:
    X = feature_frame(sample)
    y = sample["churn_flag"].to_numpy()
    extra = X.assign(churn_score=sample["churn_score"])  # a leakage column in the input frame
    a = ChurnEnsemble(tune_trials=2, cv=3).fit(extra, y)
    b = ChurnEnsemble(tune_trials=2, cv=3).fit(X, y)
    pa, pb = a.predict_proba(X)[:, 1], b.predict_proba(extra)[:, 1]
    assert np.array_equal(pa, pb)  # same seed, same result; the extra column is never used
    assert ((pa >= 0) & (pa <= 1)).all()
    assert a.weights_.sum() == pytest.approx(1.0)
    for _, pipe in a.members_:
        assert not set(pipe.named_steps["prep"].feature_names_in_) & set(LEAKAGE_COLUMNS)
    # calibration: mean predicted churn close to the observed churn rate (out of fold)
    assert a.oof_proba_.mean() == pytest.approx(y.mean(), abs=0.03)
