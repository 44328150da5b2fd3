"""The compiled ensemble (#17): same probabilities as ``predict_proba``, preprocessing once, and a
``.so`` loaded only when every hash matches (anything else falls back to the plain ensemble)."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer

from churn_core.data.loading import file_sha256
from churn_core.prediction.compiled import (
    COMPILED_DIR,
    COMPILED_MANIFEST,
    CompiledEnsemble,
    CompiledModelError,
    SharedEncoder,
    load_compiled,
    scoring_model,
)
from churn_core.prediction.ensemble import ChurnEnsemble
from churn_core.prediction.features import feature_frame
from churn_core.prediction.training import MODEL_FILE, load_bundle, read_manifest
from tests.helpers.compiled import clone_compiled, copy_bundle


@pytest.fixture(scope="module")
def plain(compiled_bundle):
    return load_bundle(compiled_bundle)


@pytest.fixture(scope="module")
def compiled(compiled_bundle, plain) -> CompiledEnsemble:
    model = load_compiled(compiled_bundle, plain.model, plain.background)
    assert isinstance(model, CompiledEnsemble)
    return model


def test_compiled_probabilities_equal_predict_proba_on_the_real_customers(compiled, plain, customers):
    X = feature_frame(customers, plain.model.features)
    expected = plain.model.predict_proba(X)
    got = compiled.predict_proba(X)
    assert got.shape == expected.shape == (7043, 2)
    assert np.max(np.abs(got - expected)) <= 1e-6
    assert np.max(np.abs(compiled.member_proba(X) - plain.model.member_proba(X))) <= 1e-6
    assert (compiled.predict(X) == plain.model.predict(X)).all()
    # raw warehouse columns (no feature_frame) give the same numbers: the scoring path
    assert np.max(np.abs(compiled.predict_proba(customers)[:, 1] - expected[:, 1])) <= 1e-6
    # one customer at a time (the single-thread path of the API and the pages) as well
    for i in (0, 1, 4000):
        one = compiled.predict_proba(X.iloc[[i]])[:, 1]
        assert abs(one[0] - expected[i, 1]) <= 1e-6


def test_the_lightgbm_member_runs_compiled_and_the_encoding_runs_once(compiled, plain, customers, monkeypatch):
    assert [m.kind for m in compiled._members] == ["compiled", "classifier", "classifier"]
    calls = []
    encode = SharedEncoder.encode

    def counted(self, frame):
        calls.append(len(frame))
        return encode(self, frame)

    def refused(self, X, *args, **kwargs):
        raise AssertionError("a member's ColumnTransformer ran: preprocessing is not shared")

    monkeypatch.setattr(SharedEncoder, "encode", counted)
    monkeypatch.setattr(ColumnTransformer, "transform", refused)
    compiled.predict_proba(customers.iloc[:500])
    assert calls == [500]  # once for all three members


def test_shared_encoding_is_the_members_column_transformer(compiled, plain, customers):
    X = feature_frame(customers, plain.model.features)
    odd = X.iloc[:300].copy()
    odd.loc[odd.index[0], "contract"] = "Three year"  # unknown level: all zeros, as handle_unknown="ignore"
    for frame in (X, odd, X.iloc[:3]):
        for (_, pipe), got in zip(plain.model.members_, compiled.member_inputs(frame), strict=True):
            np.testing.assert_array_equal(got, pipe.named_steps["prep"].transform(frame))


def test_compiled_manifest_records_the_model_and_library_hashes(compiled_bundle):
    folder = compiled_bundle / COMPILED_DIR
    info = json.loads((folder / COMPILED_MANIFEST).read_text(encoding="utf-8"))
    assert (
        info["model_sha256"] == read_manifest(compiled_bundle)[MODEL_FILE] == file_sha256(compiled_bundle / MODEL_FILE)
    )
    libraries = [m for m in info["members"] if m["runtime"] == "tl2cgen"]
    assert len(libraries) == 1
    assert libraries[0]["sha256"] == file_sha256(folder / libraries[0]["file"])
    assert info["check"]["max_abs_diff"] <= 1e-9
    assert info["compile_seconds"] > 0


def test_a_changed_library_is_refused_and_scoring_falls_back(compiled_bundle, plain, tmp_path, caplog):
    copy = clone_compiled(compiled_bundle, tmp_path / "bundle")
    lib = next((copy / COMPILED_DIR).glob("*.so"))
    data = bytearray(lib.read_bytes())
    data[len(data) // 2] ^= 0xFF
    lib.write_bytes(bytes(data))
    with pytest.raises(CompiledModelError, match="changed after it was compiled"):
        load_compiled(copy, plain.model, plain.background)
    assert scoring_model(plain.model, copy, plain.background) is plain.model
    assert "compiled model refused" in caplog.text


def test_a_library_writable_by_others_is_refused(compiled_bundle, plain, tmp_path):
    copy = clone_compiled(compiled_bundle, tmp_path / "bundle")
    lib = next((copy / COMPILED_DIR).glob("*.so"))
    os.chmod(lib, 0o666)
    with pytest.raises(CompiledModelError, match="writable by others"):
        load_compiled(copy, plain.model, plain.background)


def test_a_compiled_form_of_another_model_is_not_used(compiled_bundle, plain, tmp_path):
    copy = clone_compiled(compiled_bundle, tmp_path / "bundle")
    path = copy / COMPILED_DIR / COMPILED_MANIFEST
    info = json.loads(path.read_text(encoding="utf-8"))
    info["model_sha256"] = "0" * 64  # compiled for a model file that is not this bundle's
    path.write_text(json.dumps(info), encoding="utf-8")
    assert load_compiled(copy, plain.model, plain.background) is None
    assert scoring_model(plain.model, copy, plain.background) is plain.model


def test_without_a_compiled_form_scoring_uses_the_plain_ensemble(plain, tmp_path):
    bare = copy_bundle(tmp_path / "bare")
    assert load_compiled(bare) is None
    model = scoring_model(plain.model, bare, plain.background)
    assert isinstance(model, ChurnEnsemble)


def test_the_compiled_ensemble_stands_in_for_the_plain_one(compiled, plain):
    assert compiled.features == plain.model.features
    assert np.array_equal(compiled.weights_, plain.model.weights_)
    assert compiled.classes_.tolist() == plain.model.classes_.tolist()
    assert isinstance(plain.background, pd.DataFrame)
