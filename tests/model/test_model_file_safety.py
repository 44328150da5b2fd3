"""Model files never run code (issue #12): only reviewed types load, only files the manifest vouches for.

The attacks are real skops files: the shipped ensemble with one extra attribute whose value is a
constructor node (skops builds it by *calling* the named type with the stored arguments), so a
file that passes the type check would run ``exec``, ``eval``, ``open``, ``numpy.save`` or
``os.system`` while loading. Each payload would create a flag file; the tests assert it does not
exist afterwards.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import skops.io as sio
from typer.testing import CliRunner

from churn_core.config import MODELS_DIR, get_settings
from churn_core.data.loading import file_sha256
from churn_core.i18n import t
from churn_core.prediction.training import (
    ALLOWED_MODEL_TYPES,
    ARTIFACT_FILES,
    BACKGROUND_FILE,
    BUNDLE_FILES,
    CARD_FILE,
    MANIFEST_FILE,
    MODEL_FILE,
    ModelIntegrityError,
    UntrustedModelError,
    load_bundle,
    model_file_types,
    read_manifest,
    train,
    write_manifest,
)
from tests.helpers.apptest import open_page

pytestmark = pytest.mark.model


# -- crafting hostile skops files ---------------------------------------------------------------
def _schema(data: bytes) -> dict:
    return json.loads(zipfile.ZipFile(io.BytesIO(data)).read("schema.json"))


def _strip_ids(node):
    """A skops state without ``__id__`` (memo ids of another dump could collide) nor file-level keys."""
    if isinstance(node, dict):
        return {k: _strip_ids(v) for k, v in node.items() if k not in ("__id__", "protocol", "_skops_version")}
    if isinstance(node, list):
        return [_strip_ids(v) for v in node]
    return node


def call_node(module: str, name: str, *args) -> dict:
    """A skops node that, once trusted and loaded, calls ``module.name(*args)`` (ConstructorFromReduceNode)."""
    content = _strip_ids(_schema(sio.dumps(tuple(args))))
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode", "content": content}


def with_attribute(model_bytes: bytes, attr: str, node: dict) -> bytes:
    """The skops file ``model_bytes`` with one more attribute on its top-level object, ``attr`` = ``node``."""
    src = zipfile.ZipFile(io.BytesIO(model_bytes))
    schema = json.loads(src.read("schema.json"))
    attrs = schema["content"]
    attrs["content"][attr] = node
    attrs["key_types"]["content"].append({"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, json.dumps(schema) if item.filename == "schema.json" else src.read(item))
    return out.getvalue()


def payloads(flag: Path) -> dict[str, dict]:
    """Each hostile node, by the type it needs trusted; each would create ``flag`` when built."""
    return {
        "builtins.exec": call_node(
            "builtins", "exec", f"import pathlib; pathlib.Path({str(flag)!r}).write_text('ran')"
        ),
        "builtins.eval": call_node("builtins", "eval", f"__import__('pathlib').Path({str(flag)!r}).write_text('ran')"),
        "builtins.open": call_node("builtins", "open", str(flag), "w"),
        "numpy.save": call_node("numpy", "save", str(flag), [1, 2, 3]),
        "os.system": call_node("os", "system", f"touch {flag}"),
    }


@pytest.fixture
def models_copy(tmp_path) -> Path:
    """The shipped bundle files and manifest, copied to a folder the test may tamper with."""
    folder = tmp_path / "models"
    folder.mkdir()
    for name in (*BUNDLE_FILES, MANIFEST_FILE):
        shutil.copy2(MODELS_DIR / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def fresh_models(tmp_path_factory, customers) -> Path:
    """A freshly trained (small, untuned) ensemble: a different valid model, written by :func:`train`."""
    folder = tmp_path_factory.mktemp("fresh_models")
    train(customers.sample(400, random_state=7), get_settings().raw_customers_csv, folder, tune_trials=0,
          evaluate=False, grid=False)  # fmt: skip
    return folder


# -- 1. only the reviewed types load; nothing in a refused file runs ----------------------------
@pytest.mark.parametrize("attack", ["builtins.exec", "builtins.eval", "builtins.open", "numpy.save", "os.system"])
def test_a_model_file_with_a_code_running_node_is_refused_and_runs_nothing(models_copy, tmp_path, attack) -> None:
    flag = tmp_path / "payload_ran.npy"
    hostile = with_attribute((models_copy / MODEL_FILE).read_bytes(), "_note", payloads(flag)[attack])
    (models_copy / MODEL_FILE).write_bytes(hostile)
    write_manifest(models_copy)  # the attacker also fixes the hashes: the type check must still hold
    assert attack in sio.get_untrusted_types(data=hostile)

    with pytest.raises(UntrustedModelError) as caught:
        load_bundle(models_copy)
    assert caught.value.types == [attack]
    assert attack in str(caught.value) and str(models_copy / MODEL_FILE) in str(caught.value)
    assert caught.value.path == models_copy / MODEL_FILE
    assert not flag.exists(), "the payload ran while the model was loading"


def test_a_card_cannot_widen_trust_beyond_the_allow_list_in_code(models_copy, tmp_path) -> None:
    flag = tmp_path / "payload_ran"
    model = models_copy / MODEL_FILE
    model.write_bytes(with_attribute(model.read_bytes(), "_note", payloads(flag)["builtins.exec"]))
    card = json.loads((models_copy / CARD_FILE).read_text(encoding="utf-8"))
    card["trusted_types"] = [*card["trusted_types"], "builtins.exec"]
    (models_copy / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    write_manifest(models_copy)

    with pytest.raises(UntrustedModelError) as caught:
        load_bundle(models_copy)
    assert caught.value.types == ["builtins.exec"]
    assert caught.value.path == models_copy / CARD_FILE and "ALLOWED_MODEL_TYPES" in str(caught.value)
    assert not flag.exists()


def test_the_card_list_is_what_is_trusted(models_copy) -> None:
    card = json.loads((models_copy / CARD_FILE).read_text(encoding="utf-8"))
    card["trusted_types"].remove("xgboost.core.Booster")
    (models_copy / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    write_manifest(models_copy)
    with pytest.raises(UntrustedModelError, match=r"xgboost\.core\.Booster") as caught:
        load_bundle(models_copy)
    assert caught.value.types == ["xgboost.core.Booster"]


def test_untrusted_model_error_is_a_type_and_value_error() -> None:
    assert issubclass(UntrustedModelError, TypeError) and issubclass(UntrustedModelError, ValueError)
    assert issubclass(ModelIntegrityError, ValueError)


# -- 2. the manifest: a changed file is refused, naming it and how to rebuild ---------------------
def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _different_card(path: Path) -> None:
    card = json.loads(path.read_text(encoding="utf-8"))
    card["operating_threshold"] = 0.9
    path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "tamper"),
    [(MODEL_FILE, "flip"), (MODEL_FILE, "other_model"), (BACKGROUND_FILE, "flip"), (CARD_FILE, "edit")],
)
def test_a_file_changed_after_training_is_refused_naming_it(models_copy, fresh_models, name, tamper) -> None:
    target = models_copy / name
    if tamper == "flip":
        _flip_one_byte(target)
    elif tamper == "other_model":  # a valid model, just not the one the manifest records
        shutil.copy2(fresh_models / MODEL_FILE, target)
    else:
        _different_card(target)

    with pytest.raises(ModelIntegrityError) as caught:
        load_bundle(models_copy)
    message = str(caught.value)
    assert caught.value.path == target and str(target) in message
    assert "churn-studio train" in message and "churn-studio model manifest" in message


def test_a_missing_manifest_or_entry_is_refused(models_copy) -> None:
    manifest = json.loads((models_copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    del manifest["sha256"][MODEL_FILE]
    (models_copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match=MODEL_FILE):
        load_bundle(models_copy)
    (models_copy / MANIFEST_FILE).unlink()
    with pytest.raises(ModelIntegrityError, match=MANIFEST_FILE):
        load_bundle(models_copy)


def test_the_manifest_command_accepts_a_deliberate_change(models_copy, fresh_models, monkeypatch) -> None:
    from churn_core.cli import app

    shutil.copy2(fresh_models / MODEL_FILE, models_copy / MODEL_FILE)
    with pytest.raises(ModelIntegrityError):
        load_bundle(models_copy)
    monkeypatch.setenv("CHURN_MODELS_DIR", str(models_copy))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["model", "manifest"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert file_sha256(models_copy / MODEL_FILE) in result.output
    assert load_bundle(models_copy).model.predict_proba(load_bundle(models_copy).background).shape == (200, 2)


# -- the shipped artifacts and a retrain carry both -------------------------------------------------
def test_the_shipped_models_folder_is_reviewed_and_loads() -> None:
    card = json.loads((MODELS_DIR / CARD_FILE).read_text(encoding="utf-8"))
    assert card["trusted_types"] == model_file_types(MODELS_DIR / MODEL_FILE)
    assert set(card["trusted_types"]) <= ALLOWED_MODEL_TYPES
    assert not [t for t in ALLOWED_MODEL_TYPES if t.split(".")[0] in ("builtins", "os", "posix", "subprocess", "sys")]
    manifest = read_manifest(MODELS_DIR)
    assert set(manifest) == set(ARTIFACT_FILES)
    assert manifest == {name: file_sha256(MODELS_DIR / name) for name in ARTIFACT_FILES}
    bundle = load_bundle(MODELS_DIR)
    assert bundle.card["trusted_types"] == card["trusted_types"] and len(bundle.background) == 200


def test_training_writes_the_trusted_types_and_the_manifest(fresh_models) -> None:
    card = json.loads((fresh_models / CARD_FILE).read_text(encoding="utf-8"))
    assert card["trusted_types"] == model_file_types(fresh_models / MODEL_FILE)
    assert set(card["trusted_types"]) <= ALLOWED_MODEL_TYPES
    assert read_manifest(fresh_models) == {name: file_sha256(fresh_models / name) for name in BUNDLE_FILES}
    assert load_bundle(fresh_models).card == card


# -- the app says why, in the catalog's words ------------------------------------------------------
@pytest.mark.app
@pytest.mark.parametrize("attack", ["tampered", "untrusted"])
def test_the_models_page_shows_the_refusal(models_copy, tmp_path, monkeypatch, attack) -> None:
    flag = tmp_path / "payload_ran"
    model = models_copy / MODEL_FILE
    if attack == "tampered":
        _flip_one_byte(model)
    else:
        model.write_bytes(with_attribute(model.read_bytes(), "_note", payloads(flag)["builtins.exec"]))
        write_manifest(models_copy)
    monkeypatch.setenv("CHURN_MODELS_DIR", str(models_copy))
    monkeypatch.setenv("CHURN_REGISTRY_DIR", str(tmp_path / "registry"))  # no champion yet: seeded from the copy
    get_settings.cache_clear()
    try:
        at = open_page("pages/models.py")
    finally:
        get_settings.cache_clear()
    assert not at.exception, at.exception
    key = "model.integrity" if attack == "tampered" else "model.untrusted"
    assert [e for e in at.error if e.value == t(key, "ko")]
    assert any(str(model) in c.value for c in at.code)
    assert not at.get("plotly_chart") and not flag.exists()
