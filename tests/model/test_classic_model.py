"""The classic-feature model shipped in ``models/classic/`` and scoring by the file's schema (issue #13).

Classic test files are cut from the shipped IBM file at test time (``tests.helpers.classic``).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from churn_core.config import MODELS_DIR, RAW_CUSTOMERS_CSV
from churn_core.data.loading import file_sha256, load_any_customers
from churn_core.data.schema import CLASSIC_FEATURES, LEAKAGE_COLUMNS
from churn_core.prediction.features import feature_frame
from churn_core.prediction.scoring import prepare_file, score_prepared
from churn_core.prediction.training import (
    CARD_FILE,
    MODEL_FILE,
    OOF_FILE,
    ModelIntegrityError,
    bundle_dir,
    load_schema_bundle,
    model_label,
)
from tests.helpers.classic import classic_bytes, write_classic

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def classic_bundle():
    return load_schema_bundle("classic")


def test_the_classic_model_is_shipped_beside_the_extended_one(classic_bundle) -> None:
    assert bundle_dir(MODELS_DIR, "classic") == MODELS_DIR / "classic"
    assert tuple(classic_bundle.model.features) == CLASSIC_FEATURES
    assert not set(classic_bundle.model.features) & set(LEAKAGE_COLUMNS)
    card = classic_bundle.card
    assert model_label(card) == {"name": "churn-ensemble-classic", "schema": "classic", "version": card["created"]}
    assert card["features"] == list(CLASSIC_FEATURES)
    assert card["training_data"]["sha256"] == file_sha256(RAW_CUSTOMERS_CSV)  # trained on the shipped file
    assert list(classic_bundle.background.columns) == list(CLASSIC_FEATURES)
    # the extended model is untouched and still loads as the extended one
    assert model_label(load_schema_bundle("extended").card)["schema"] == "extended"


def test_the_card_metrics_come_from_out_of_fold_probabilities(classic_bundle) -> None:
    """The card's CV ROC-AUC agrees with the AUC of the nested out-of-fold probabilities it shipped."""
    card = classic_bundle.card
    ev = card["evaluation"]
    assert ev["method"].startswith("nested repeated stratified 5-fold CV")
    auc = ev["classic_features"]["all"]["roc_auc"]
    oof = pd.read_parquet(bundle_dir(MODELS_DIR, "classic") / OOF_FILE)
    repeats = [c for c in oof if c.startswith("proba_repeat_")]
    assert len(repeats) >= 1 and oof[repeats].notna().all().all()  # every customer scored out of fold
    pooled = [roc_auc_score(oof["churn_flag"], oof[c]) for c in repeats]
    assert abs(np.mean(pooled) - auc["mean"]) < 0.01  # pooled vs per-fold mean: same estimate
    assert auc["std"] > 0  # a spread over folds, not one number


def test_the_classic_model_has_the_same_loading_safety(tmp_path) -> None:
    folder = tmp_path / "models"
    shutil.copytree(MODELS_DIR, folder)
    manifest = json.loads((folder / "classic" / "manifest.json").read_text(encoding="utf-8"))["sha256"]
    assert set(manifest) >= {MODEL_FILE, CARD_FILE, "explainer_background.parquet"}
    model = folder / "classic" / MODEL_FILE
    model.write_bytes(model.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="changed after training"):
        load_schema_bundle("classic", folder)
    load_schema_bundle("extended", folder)  # the other model is not affected


def test_a_bundle_of_the_wrong_schema_is_refused(tmp_path) -> None:
    folder = tmp_path / "models"
    shutil.copytree(MODELS_DIR, folder)
    shutil.rmtree(folder / "classic")
    shutil.copytree(MODELS_DIR, folder / "classic", ignore=shutil.ignore_patterns("classic"))  # extended files
    with pytest.raises(ValueError, match="not for 'classic'"):
        load_schema_bundle("classic", folder)


@pytest.mark.parametrize("churn", [False, True], ids=["without_churn", "with_churn"])
def test_a_classic_file_is_scored_by_the_classic_model(tmp_path, classic_bundle, churn: bool) -> None:
    data = classic_bytes(churn=churn, rows=300)
    prepared = prepare_file(data, chunk_rows=120, source="classic.csv")
    assert prepared.schema == "classic"
    assert prepared.ignored_columns == (("Churn",) if churn else ())
    assert list(prepared.customers.columns) == ["customer_id", *CLASSIC_FEATURES]
    scored = score_prepared(classic_bundle.model, prepared.customers)
    reference = load_any_customers(write_classic(tmp_path)).head(300)  # the same rows, loaded as a warehouse would
    expected = classic_bundle.model.predict_proba(feature_frame(reference, CLASSIC_FEATURES))[:, 1]
    assert (scored["customer_id"].to_numpy() == reference["customer_id"].to_numpy()).all()
    assert np.allclose(scored["churn_probability"].to_numpy(), expected)


def test_the_label_never_changes_a_classic_score(classic_bundle) -> None:
    with_label = prepare_file(classic_bytes(churn=True, rows=200))
    without = prepare_file(classic_bytes(churn=False, rows=200))
    a = score_prepared(classic_bundle.model, with_label.customers)
    b = score_prepared(classic_bundle.model, without.customers)
    assert a.equals(b)


def test_an_extended_file_still_goes_to_the_extended_model() -> None:
    head = b"".join(RAW_CUSTOMERS_CSV.read_bytes().splitlines(keepends=True)[:301])
    prepared = prepare_file(head, source="extended.csv")
    assert prepared.schema == "extended"
    assert "Churn" in prepared.ignored_columns and "CLTV" in prepared.ignored_columns
    assert "age" in prepared.customers and "n_services" in prepared.customers


def test_classic_seniors_get_the_senior_programme_without_an_age() -> None:
    from churn_core.prediction.business import recommend

    senior = {"senior_citizen": 1, "contract": "Two year", "tenure": 40}  # a classic customer: no Age column
    assert "senior_digital_education" in recommend(senior)
    assert "senior_digital_education" not in recommend({**senior, "senior_citizen": 0})
