"""The model registry: seeding from models/, versions, promotion, rollback, refusal of a tampered version."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from churn_core.config import MODELS_DIR, Settings, get_settings
from churn_core.data.loading import file_sha256
from churn_core.prediction import registry
from churn_core.prediction.training import MODEL_FILE, ModelIntegrityError, load_bundle
from tests.helpers.registry import no_compiling, tiny_bundle

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def challenger_dir(tmp_path_factory, customers):
    return tiny_bundle(tmp_path_factory.mktemp("challenger"), customers)


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    no_compiling(monkeypatch)
    return Settings(_env_file=None, registry_dir=tmp_path / "registry")


def test_first_use_registers_the_shipped_model_as_champion(settings) -> None:
    version = registry.champion_version(settings)
    sha = file_sha256(MODELS_DIR / MODEL_FILE)
    created = load_bundle(MODELS_DIR).card["created"]
    assert version == f"{created[:10].replace('-', '')}-{sha[:8]}"
    folder = registry.champion_dir(settings)
    assert folder == settings.registry_dir / "extended" / version and file_sha256(folder / MODEL_FILE) == sha
    info = registry.champion_info(settings)
    assert info["model_sha256"] == sha and info["trained_on"] == [str(settings.base_snapshot_date)]
    assert info["metrics"]["roc_auc"] == pytest.approx(load_bundle(MODELS_DIR).card["evaluation"]["extended_features"]
                                                        ["all"]["roc_auc"]["mean"])  # fmt: skip
    events = [(e["event"], e["actor"]) for e in registry.history(settings)]
    assert events == [("register", "seed"), ("promote", "seed")]
    bundle, loaded = registry.load_champion(settings)
    assert loaded == version and bundle.card == load_bundle(MODELS_DIR).card
    assert [v["version"] for v in registry.list_versions(settings) if v["champion"]] == [version]


def test_promote_then_rollback(settings, challenger_dir) -> None:
    first = registry.champion_version(settings)
    new = registry.register(challenger_dir, settings, trained_on=["2019-09-30"], actor="test", reason="tiny")
    assert new != first and registry.champion_version(settings) == first  # registering never promotes
    assert registry.register(challenger_dir, settings, trained_on=["2019-09-30"]) == new  # same file: same version
    assert [v["version"] for v in registry.list_versions(settings)] == [first, new]
    registry.promote(new, "better on the held-out month", settings, actor="test promote")
    assert registry.champion_version(settings) == new
    assert json.loads(registry.champion_pointer(settings).read_text())["previous"] == [first]
    last = registry.history(settings)[-1]
    assert (last["event"], last["version"], last["previous"], last["actor"], last["reason"]) == (
        "promote", new, first, "test promote", "better on the held-out month")  # fmt: skip
    with pytest.raises(registry.RegistryError, match="already the champion"):
        registry.promote(new, "again", settings)
    assert registry.rollback(settings, reason="bad week") == first
    assert registry.champion_version(settings) == first
    assert registry.history(settings)[-1] | {"time": None} == {
        "time": None, "event": "rollback", "schema": "extended", "version": first, "previous": new,
        "actor": "churn-studio model rollback", "reason": "bad week"}  # fmt: skip
    with pytest.raises(registry.RegistryError, match="no previous champion"):
        registry.rollback(settings)


def test_a_tampered_version_is_refused_and_never_promoted(settings, challenger_dir) -> None:
    first = registry.champion_version(settings)
    new = registry.register(challenger_dir, settings, trained_on=[])
    model = registry.version_dir(new, settings) / MODEL_FILE
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match=MODEL_FILE):
        registry.load_version(new, settings)
    with pytest.raises(ModelIntegrityError):
        registry.promote(new, "tampered", settings)
    assert registry.champion_version(settings) == first


def test_version_json_must_name_the_manifest_model(settings, challenger_dir) -> None:
    new = registry.register(challenger_dir, settings, trained_on=[])
    info_path = registry.version_dir(new, settings) / registry.VERSION_FILE
    info = json.loads(info_path.read_text()) | {"model_sha256": "0" * 64}
    info_path.write_text(json.dumps(info))
    with pytest.raises(ModelIntegrityError, match=r"version\.json"):
        registry.load_version(new, settings)


def test_names_that_are_not_versions_are_refused(settings) -> None:
    for name in ("../../etc", "20261122-8185566", "latest"):
        with pytest.raises(registry.RegistryError, match="not a model version"):
            registry.promote(name, "x", settings)
    with pytest.raises(registry.RegistryError, match="not registered"):
        registry.promote("20200101-deadbeef", "x", settings)


def test_a_tampered_shipped_model_is_not_seeded(tmp_path, settings) -> None:
    import shutil

    shipped = tmp_path / "models"
    shutil.copytree(MODELS_DIR, shipped, ignore=shutil.ignore_patterns("classic"))
    data = bytearray((shipped / MODEL_FILE).read_bytes())
    data[100] ^= 0xFF
    (shipped / MODEL_FILE).write_bytes(bytes(data))
    bad = settings.model_copy(update={"models_dir": shipped})
    with pytest.raises(ModelIntegrityError, match=re.escape(str(shipped / MODEL_FILE))):
        registry.champion_version(bad)
    assert not registry.champion_pointer(bad).exists()


def test_the_model_commands(tmp_path, monkeypatch, challenger_dir) -> None:
    from churn_core.cli import app

    no_compiling(monkeypatch)
    monkeypatch.setenv("CHURN_REGISTRY_DIR", str(tmp_path / "registry"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        listed = runner.invoke(app, ["model", "list"])
        first = registry.champion_version()
        assert listed.exit_code == 0 and first in listed.output and "*" in listed.output, listed.output
        refused = runner.invoke(app, ["model", "rollback"])
        assert refused.exit_code == 1 and "no previous champion" in refused.output
        new = registry.register(challenger_dir, trained_on=[])
        promoted = runner.invoke(app, ["model", "promote", new, "--reason", "by hand"])
        assert promoted.exit_code == 0 and new in promoted.output and registry.champion_version() == new
        assert registry.history()[-1]["reason"] == "by hand"
        back = runner.invoke(app, ["model", "rollback"])
        assert back.exit_code == 0 and registry.champion_version() == first
    finally:
        get_settings.cache_clear()
