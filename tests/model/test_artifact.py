"""Behaviour of the shipped model artifact in models/ (skops file + model card)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.config import MODELS_DIR
from churn_core.data.loading import file_sha256
from churn_core.data.schema import LEAKAGE_COLUMNS
from churn_core.prediction.features import MODEL_FEATURES, feature_frame
from churn_core.prediction.metrics import METRICS
from churn_core.prediction.training import MODEL_FILE, load_bundle

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(MODELS_DIR)


@pytest.fixture(scope="module")
def X(customers) -> pd.DataFrame:
    return feature_frame(customers)


def test_artifact_is_small_and_safe() -> None:
    assert (MODELS_DIR / MODEL_FILE).stat().st_size < 8 * 1024 * 1024


def test_probabilities_are_valid_and_deterministic(bundle, X) -> None:
    p1 = bundle.model.predict_proba(X)[:, 1]
    p2 = bundle.model.predict_proba(X)[:, 1]
    assert np.array_equal(p1, p2)
    assert ((p1 >= 0) & (p1 <= 1)).all()
    assert np.isclose(bundle.model.predict_proba(X).sum(axis=1), 1).all()


def test_card_matches_data_and_declares_no_leakage(bundle, customers) -> None:
    card = bundle.card
    from churn_core.config import RAW_CUSTOMERS_CSV

    assert card["training_data"]["sha256"] == file_sha256(RAW_CUSTOMERS_CSV)
    assert card["features"] == list(MODEL_FEATURES) == list(bundle.model.features)
    assert not set(card["features"]) & set(LEAKAGE_COLUMNS)
    ev = card["evaluation"]["extended_features"]
    for group in ("all", "seniors"):
        assert set(ev[group]) == set(METRICS)
    assert 0.8 < ev["all"]["roc_auc"]["mean"] < 0.95  # leakage-free range; leakage would give ~0.99
    assert abs(sum(m["weight"] for m in card["members"]) - 1) < 1e-9


def _mean_risk(model, X, **changes) -> float:
    return float(model.predict_proba(X.assign(**changes))[:, 1].mean())


def test_longer_contracts_do_not_raise_risk_on_average(bundle, X) -> None:
    monthly = _mean_risk(bundle.model, X, contract="Month-to-month")
    one_year = _mean_risk(bundle.model, X, contract="One year")
    two_year = _mean_risk(bundle.model, X, contract="Two year")
    assert two_year <= one_year <= monthly


def test_more_referrals_and_longer_tenure_do_not_raise_risk_on_average(bundle, X) -> None:
    assert _mean_risk(bundle.model, X, number_of_referrals=5.0) <= _mean_risk(bundle.model, X, number_of_referrals=0.0)
    assert _mean_risk(bundle.model, X, tenure=48.0) <= _mean_risk(bundle.model, X, tenure=2.0)


def test_calibrated_on_the_training_customers(bundle, X, customers) -> None:
    # In-sample check only (the honest calibration figure is the card's cross-validated Brier score).
    p = bundle.model.predict_proba(X)[:, 1]
    assert abs(p.mean() - customers["churn_flag"].mean()) < 0.02
