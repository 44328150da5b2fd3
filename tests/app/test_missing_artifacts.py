"""Pages say what is missing instead of failing or going blank (model page without OOF file, Home)."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from churn_core.config import MODELS_DIR, get_settings
from churn_core.i18n import catalog, t
from churn_core.prediction.training import OOF_FILE, write_manifest
from tests.helpers.apptest import ENTRY

pytestmark = pytest.mark.app


@pytest.fixture
def models_without_oof(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    shutil.copytree(MODELS_DIR, folder)
    (folder / OOF_FILE).unlink()
    write_manifest(folder)  # a deliberate change: the remaining artifacts are verified as usual
    monkeypatch.setenv("CHURN_MODELS_DIR", str(folder))
    monkeypatch.setenv("CHURN_REGISTRY_DIR", str(tmp_path / "registry"))  # the champion is seeded from this folder
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


@pytest.mark.parametrize("name", ["curves", "profit"])
def test_curve_tabs_explain_a_missing_oof_file(models_without_oof, name) -> None:
    at = AppTest.from_file(ENTRY, default_timeout=180).run()
    at.switch_page("pages/models.py").run()
    at.session_state["model_tab"] = t(f"model.tab_{name}", "ko")
    at.run()
    assert not at.exception, at.exception
    assert [i.value for i in at.info if i.value == t("model.no_oof", "ko")]
    assert not at.get("plotly_chart")


def test_home_no_longer_announces_pages_that_exist() -> None:
    at = AppTest.from_file(ENTRY, default_timeout=180).run()
    assert not at.exception, at.exception
    shown = " ".join(c.value for c in at.caption)
    assert "home.coming" not in catalog()
    assert "준비 중" not in shown and "지도" in " ".join(link.proto.label for link in at.get("page_link"))


@pytest.fixture
def card_without_evaluation(tmp_path, monkeypatch):
    import json

    from churn_core.prediction.training import CARD_FILE

    folder = tmp_path / "models"
    shutil.copytree(MODELS_DIR, folder)
    card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    card.pop("evaluation")
    (folder / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    write_manifest(folder)
    monkeypatch.setenv("CHURN_MODELS_DIR", str(folder))
    monkeypatch.setenv("CHURN_REGISTRY_DIR", str(tmp_path / "registry"))  # the champion is seeded from this folder
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def test_curves_without_cross_validated_metrics_in_the_card(card_without_evaluation) -> None:
    # the page used a variable defined only when the card had an evaluation
    at = AppTest.from_file(ENTRY, default_timeout=180).run()
    at.switch_page("pages/models.py").run()
    assert [w.value for w in at.warning if w.value == t("model.no_evaluation", "ko")]
    at.session_state["model_tab"] = t("model.tab_curves", "ko")
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 4
