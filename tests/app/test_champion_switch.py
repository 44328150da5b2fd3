"""After ``promote``, the next rerun of the scoring and models pages uses the new champion (no restart)."""

from __future__ import annotations

import pytest

from churn_core.config import get_settings
from churn_core.i18n import t
from churn_core.prediction import registry
from tests.helpers.apptest import open_page, open_tab
from tests.helpers.registry import no_compiling, tiny_bundle

pytestmark = pytest.mark.app


@pytest.fixture
def own_registry(tmp_path, monkeypatch, customers, duckdb_warehouse):  # the warehouse built before the app runs
    no_compiling(monkeypatch)
    monkeypatch.setenv("CHURN_REGISTRY_DIR", str(tmp_path / "registry"))
    get_settings.cache_clear()
    yield tiny_bundle(tmp_path / "challenger", customers, seed=3)
    get_settings.cache_clear()


def _serving(at) -> list[str]:
    prefix = t("registry.serving", "ko", version="", trained="").split(":")[0]
    return [c.value for c in at.caption if c.value.startswith(prefix)]


def test_pages_switch_to_the_promoted_champion(own_registry) -> None:
    at = open_page("pages/scoring.py", role="analyst")
    first = registry.champion_version()
    assert [c for c in _serving(at) if first in c], _serving(at)
    before = [m.value for m in at.metric]

    new = registry.register(own_registry, trained_on=["2019-09-30"])
    registry.promote(new, "test promotion")
    at.run()
    assert not at.exception, at.exception
    assert [c for c in _serving(at) if new in c] and not [c for c in _serving(at) if first in c]
    assert [m.value for m in at.metric] != before  # the same customer, scored by the new champion

    at.switch_page("pages/models.py").run()
    assert not at.exception, at.exception
    assert [c for c in _serving(at) if new in c]
    open_tab(at, "model_tab", "model", "registry")
    assert not at.exception, at.exception
    versions, decisions = (df.value for df in at.dataframe[:2])
    champion = versions[versions[t("registry.col_champion", "ko")] == "★"]
    assert list(champion[t("registry.col_version", "ko")]) == [new]
    newest = decisions.iloc[0]
    assert newest[t("registry.col_event", "ko")] == t("registry.event_promote", "ko")
    assert newest[t("registry.col_reason", "ko")] == "test promotion"
    assert any(m.value == t("registry.sequence_text", "ko") for m in at.markdown)  # the LSTM note on the page
