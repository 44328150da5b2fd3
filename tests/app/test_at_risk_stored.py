"""Issue #17: the at-risk seniors are read from stored scores while a page loads, never scored there.

The module's warehouse is built by the studio build (its after-build step stores the model
sample's churn probabilities under the build key and the model file's SHA-256) with a registry
of its own. With the scoring entry point replaced by one that records the call and raises, the
outreach page shows its audience from the stored probabilities. After a promotion those stored
probabilities are another model's: the page scores the sample (with a progress bar) and says so;
after a ``churn-studio score`` run of the new champion it reads that run, again without scoring.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from churn_core.config import get_settings
from churn_core.i18n import t
from churn_core.prediction import at_risk, registry, scoring
from churn_core.studio import open_studio_warehouse, shared_warehouse
from tests.helpers.apptest import open_page
from tests.helpers.registry import no_compiling, tiny_bundle

pytestmark = pytest.mark.app

PAGE = "pages/outreach.py"
SCORED_HERE = t("atrisk.scored_here", "ko")


@pytest.fixture(scope="module")
def studio_built(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A studio-built warehouse (after-build steps run) and an empty registry, for this module only."""
    folder = tmp_path_factory.mktemp("at_risk_stored")
    env = {"CHURN_WAREHOUSE_PATH": str(folder / "warehouse.duckdb"), "CHURN_REGISTRY_DIR": str(folder / "registry")}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        get_settings.cache_clear()
        wh = open_studio_warehouse(get_settings())
        wh.build()  # the after-build steps store the sample's probabilities by the shipped model
        wh.close()
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


@pytest.fixture
def own_env(studio_built, monkeypatch) -> dict[str, str]:
    import streamlit as st

    for name, value in studio_built.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_data.clear()  # each test sees what its page run reads, not another test's cached result
    return studio_built


def _spy(monkeypatch, owner, name: str, calls: list, refuse: bool) -> None:
    original = getattr(owner, name)

    def spy(*args, **kwargs):
        calls.append(name)
        if refuse:
            raise AssertionError(f"{name} called while the page loads")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_outreach_reads_the_stored_probabilities_and_scores_nothing(own_env, monkeypatch) -> None:
    scored, read = [], []
    _spy(monkeypatch, at_risk, "at_risk_seniors", scored, refuse=True)  # the scoring entry point
    _spy(monkeypatch, scoring, "score_frame", scored, refuse=True)
    _spy(monkeypatch, at_risk, "at_risk_seniors_from_sample", read, refuse=False)
    at = open_page(PAGE, role="staff")
    assert not at.exception, at.exception
    assert scored == [] and read == ["at_risk_seniors_from_sample"]
    assert SCORED_HERE not in _captions(at) and not at.get("progress")
    assert int(str(at.metric[0].value).replace(",", "")) > 0  # an audience, from the stored probabilities


def test_the_stored_list_is_the_one_scoring_gives(own_env) -> None:
    from churn_core.data.customers import customer_sample
    from churn_core.data.loading import file_sha256
    from churn_core.prediction.training import MODEL_FILE, bundle_dir, load_schema_bundle

    s = get_settings()
    wh = shared_warehouse(s)
    sha = file_sha256(bundle_dir(s.models_dir, "extended") / MODEL_FILE)
    source = at_risk.stored_at_risk_source(wh, sha, s.max_fit_rows)
    assert source is not None and source[0] == "sample"
    assert at_risk.stored_at_risk_source(wh, "0" * 64, s.max_fit_rows) is None  # another model: nothing stored
    stored = at_risk.at_risk_seniors_from_sample(wh, source[1], sha)
    model = load_schema_bundle("extended", s.models_dir).model
    scored = at_risk.at_risk_seniors(model, customer_sample(wh, s.max_fit_rows, seniors_only=True))
    assert list(stored.columns) == list(scored.columns) == list(at_risk.AT_RISK_COLUMNS)
    assert stored["customer_id"].tolist() == scored["customer_id"].tolist()
    np.testing.assert_allclose(stored["churn_probability"], scored["churn_probability"], rtol=0, atol=1e-9)
    assert stored["risk_tier"].tolist() == scored["risk_tier"].tolist()
    np.testing.assert_allclose(stored["expected_profit_usd"], scored["expected_profit_usd"], rtol=0, atol=1e-6)


def test_a_promotion_changes_what_is_read(own_env, customers, monkeypatch, tmp_path) -> None:
    from churn_core.prediction.batch import score_snapshot

    no_compiling(monkeypatch)
    scored, from_sample, from_run = [], [], []
    _spy(monkeypatch, at_risk, "at_risk_seniors", scored, refuse=False)
    _spy(monkeypatch, at_risk, "at_risk_seniors_from_sample", from_sample, refuse=False)
    _spy(monkeypatch, at_risk, "at_risk_seniors_from_scores", from_run, refuse=False)
    at = open_page(PAGE, role="staff")
    assert not at.exception, at.exception
    assert (scored, len(from_sample), from_run) == ([], 1, [])

    new = registry.register(tiny_bundle(tmp_path / "challenger", customers, seed=5), trained_on=["2019-09-30"])
    registry.promote(new, "test promotion")
    at.run()
    assert not at.exception, at.exception
    assert scored and len(from_sample) == 1  # the stored probabilities are the old champion's: scored here
    assert SCORED_HERE in _captions(at)

    run = score_snapshot(shared_warehouse(get_settings()), None)  # `churn-studio score` with the new champion
    assert run["model_version"] == new
    scored.clear()
    at.run()
    assert not at.exception, at.exception
    assert scored == [] and len(from_run) == 1  # the run's stored scores, nothing scored
    assert SCORED_HERE not in _captions(at)
