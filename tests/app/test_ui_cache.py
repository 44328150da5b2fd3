"""The one cache helper of ``ui``: results are kept per data version and per model version."""

from __future__ import annotations

import pytest
import streamlit as st

from ui import data

pytestmark = pytest.mark.app

CALLS: list[tuple] = []


def _counted(x: int, y: int = 0) -> int:
    CALLS.append((x, y))
    return x + y


@pytest.fixture
def versions(monkeypatch) -> dict[str, str]:
    st.cache_data.clear()
    st.cache_resource.clear()
    CALLS.clear()
    current = {"data": "d1", "model": "m1"}
    monkeypatch.setattr(data, "data_version", lambda: current["data"])
    monkeypatch.setattr(data, "model_version", lambda: current["model"])
    yield current
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.parametrize("resource", [False, True])
def test_a_new_model_or_new_data_is_never_served_from_an_old_entry(versions, resource) -> None:
    assert data.cached(_counted, 1, y=2, resource=resource) == 3
    assert data.cached(_counted, 1, y=2, resource=resource) == 3
    assert CALLS == [(1, 2)]  # cached
    versions["model"] = "m2"  # retrained model: recomputed (the explainer of the new model)
    data.cached(_counted, 1, y=2, resource=resource)
    versions["data"] = "d2"  # rebuilt warehouse: recomputed
    data.cached(_counted, 1, y=2, resource=resource)
    data.cached(_counted, 5, resource=resource)  # other arguments: their own entry
    assert CALLS == [(1, 2), (1, 2), (1, 2), (5, 0)]


def test_the_model_version_is_the_model_files_hash(tmp_path, monkeypatch) -> None:
    from churn_core.data.loading import file_sha256

    st.cache_data.clear()
    model = tmp_path / "churn_ensemble.skops"
    monkeypatch.setattr(data, "model_path", lambda: model)
    assert data.model_version() == "none"
    model.write_bytes(b"first model")
    first = data.model_version()
    assert first == file_sha256(model)
    model.write_bytes(b"second model, retrained")
    assert data.model_version() == file_sha256(model) != first
