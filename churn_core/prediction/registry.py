"""The model registry: every trained model kept as a versioned, hash-checked bundle, one champion.

Layout under ``Settings.registry_dir`` (default ``data/registry``, git-ignored), per schema
(``extended``, ``classic``)::

    <registry_dir>/<schema>/<version>/      a full bundle (model, background, card, manifest, …)
                                             + version.json (version, schema, registered_at,
                                             model_sha256, trained_on, metrics, …)
    <registry_dir>/<schema>/champion.json    {"version", "previous", "promoted_at", "actor", "reason"}
    <registry_dir>/<schema>/history.jsonl    one decision a line: register, promote, rollback, reject

A **version** is ``YYYYMMDD-<first 8 hex digits of the model file's SHA-256>`` (the training date,
UTC, from the model card). A version folder is written once (copied to a temporary folder, then
renamed into place) and never changed; every load checks it with
:func:`churn_core.prediction.training.load_bundle` (SHA-256 of each file against its manifest,
only the reviewed trusted types), and checks that ``version.json`` names the same model file: a
tampered version is refused with :class:`~churn_core.prediction.training.ModelFileError`.

**Seeding**: the first time a schema is asked for its champion, the shipped bundle
(``bundle_dir(settings.models_dir, schema)``, verified first, so a tampered ``models/`` is refused
with the error naming its file) is registered and made champion, trained on
``[settings.base_snapshot_date]``.

The champion pointer is replaced atomically (a temporary file, then :func:`os.replace`); writers
take a file lock per schema (``filelock``), so concurrent commands never lose a decision. Readers
take no lock: they see the old or the new pointer, never half of one. ``previous`` is the stack of
earlier champions that :func:`rollback` returns to.

When :mod:`churn_core.prediction.compiled` provides ``compile_bundle(path)``, it is called on
every version registered, promoted or rolled back to by a command, unless the version already has a
compiled form (a failure is logged; the model is then served uncompiled). Seeding never compiles (it
may happen inside a page); a compiled form already in the shipped folder is copied along.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from churn_core.config import Settings, get_settings
from churn_core.data.loading import file_sha256
from churn_core.data.schema import SCHEMAS

if TYPE_CHECKING:
    from churn_core.prediction.training import Bundle

# The model-loading modules (training: skops, scikit-learn, LightGBM, XGBoost; evaluation) are
# imported inside the functions that load or register a model: asking for the champion's version
# or folder (every page rerun, the API) stays a file read.

logger = logging.getLogger(__name__)

VERSION_FILE = "version.json"
CHAMPION_FILE = "champion.json"
HISTORY_FILE = "history.jsonl"
LOCK_FILE = ".lock"
#: A version name: training date and the first 8 hex digits of the model file's SHA-256.
VERSION_PATTERN = re.compile(r"^\d{8}-[0-9a-f]{8}$")
#: Earlier champions kept in the pointer for :func:`rollback`.
MAX_PREVIOUS = 50
#: Metrics recorded per version (from the card's evaluation or the held-out snapshot).
VERSION_METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "brier")


class RegistryError(ValueError):
    """A registry request that cannot be done (unknown version, nothing to roll back to, broken pointer)."""


# -- paths, locks, small files ------------------------------------------------------------------------
def _settings(settings: Settings | None) -> Settings:
    return settings or get_settings()


def schema_dir(settings: Settings | None = None, schema: str = "extended") -> Path:
    """The registry folder of ``schema``: ``<registry_dir>/<schema>``.

    Raises
    ------
    ValueError
        If ``schema`` is not a declared schema (:data:`churn_core.data.schema.SCHEMAS`; each has a
        model, :data:`churn_core.prediction.features.FEATURE_SETS`).
    """
    if schema not in SCHEMAS:
        raise ValueError(f"no model for schema {schema!r}; expected one of {sorted(SCHEMAS)}")
    return Path(_settings(settings).registry_dir) / schema


def champion_pointer(settings: Settings | None = None, schema: str = "extended") -> Path:
    """Path of ``champion.json`` of ``schema`` (it may not exist before the first use)."""
    return schema_dir(settings, schema) / CHAMPION_FILE


_LOCKS: dict[str, FileLock] = {}


def _lock(settings: Settings | None, schema: str) -> FileLock:
    folder = schema_dir(settings, schema)
    folder.mkdir(parents=True, exist_ok=True)
    path = str(folder / LOCK_FILE)
    if path not in _LOCKS:
        _LOCKS[path] = FileLock(path, timeout=120)
    return _LOCKS[path]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _append_history(settings: Settings | None, schema: str, event: str, **fields: Any) -> dict:
    entry = {"time": _now(), "event": event, "schema": schema, **fields}
    with (schema_dir(settings, schema) / HISTORY_FILE).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


_POINTERS: dict[str, tuple[tuple[int, int, int], dict]] = {}


def _read_pointer(path: Path) -> dict:
    """``champion.json`` as a dict, re-read only when the file changed (cheap enough per request)."""
    stat = path.stat()
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    hit = _POINTERS.get(str(path))
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        pointer = json.loads(path.read_text(encoding="utf-8"))
        if not VERSION_PATTERN.match(str(pointer.get("version", ""))):
            raise ValueError(f"no valid version in it: {pointer.get('version')!r}")
    except (ValueError, AttributeError) as exc:
        raise RegistryError(
            f"{path} is not a valid champion pointer ({exc}); promote a version again with "
            "`churn-studio model promote VERSION` (see `churn-studio model list`)"
        ) from None
    _POINTERS[str(path)] = (key, pointer)
    return pointer


def _check_version_name(version: str) -> str:
    if not VERSION_PATTERN.match(version):
        raise RegistryError(f"{version!r} is not a model version (expected YYYYMMDD-<8 hex digits>, see `model list`)")
    return version


#: Folder of a bundle's compiled form (:mod:`churn_core.prediction.compiled`), copied along when present.
COMPILED_SUBDIR = "compiled"


def _compile(path: Path) -> None:
    """:func:`churn_core.prediction.compiled.compile_bundle` of ``path`` unless it has a compiled form
    (never fatal; the compiled form is checked when it is loaded)."""
    from churn_core.prediction.compiled import compile_bundle

    if (path / COMPILED_SUBDIR / "compiled.json").is_file():
        return
    try:
        compile_bundle(path)
    except Exception:  # an optimisation: the plain model still serves
        logger.exception("compiling the model in %s failed; it is served uncompiled", path)


# -- loading a version ----------------------------------------------------------------------------------
def _check_schema(bundle: Bundle, directory: Path, schema: str) -> None:
    from churn_core.prediction.features import FEATURE_SETS
    from churn_core.prediction.training import CARD_FILE

    card_schema = bundle.card.get("schema", "extended")
    if card_schema != schema or tuple(bundle.model.features) != tuple(FEATURE_SETS[schema]):
        raise ValueError(
            f"{directory / CARD_FILE} is a model for the {card_schema!r} schema with features "
            f"{list(bundle.model.features)}, not for {schema!r}"
        )


def load_version_dir(directory: Path, schema: str = "extended") -> Bundle:
    """Load one registered version folder with every check.

    Parameters
    ----------
    directory : Path
        ``<registry_dir>/<schema>/<version>``.
    schema : {"extended", "classic"}

    Returns
    -------
    Bundle

    Raises
    ------
    FileNotFoundError, ModelIntegrityError, UntrustedModelError
        As :func:`~churn_core.prediction.training.load_bundle` (missing file, a hash that differs from
        the manifest, an untrusted type); :class:`ModelIntegrityError` also when ``version.json`` is
        missing or names another model file than the manifest.
    ValueError
        If the bundle is for another schema.
    """
    from churn_core.prediction.training import (
        MANIFEST_FILE,
        MODEL_FILE,
        ModelIntegrityError,
        load_bundle,
        read_manifest,
    )

    directory = Path(directory)
    bundle = load_bundle(directory)
    info_path = directory / VERSION_FILE
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        recorded = str(info["model_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelIntegrityError(
            info_path, f"{info_path} is missing or unreadable; the version is not loaded."
        ) from None
    if recorded != read_manifest(directory).get(MODEL_FILE):
        raise ModelIntegrityError(
            info_path,
            f"{info_path} names another model file than {directory / MANIFEST_FILE}; the version is not loaded.",
        )
    _check_schema(bundle, directory, schema)
    return bundle


def version_dir(version: str, settings: Settings | None = None, schema: str = "extended") -> Path:
    """The folder of a registered ``version``.

    Raises
    ------
    RegistryError
        If ``version`` is not a version name or is not registered for ``schema``.
    """
    folder = schema_dir(settings, schema) / _check_version_name(version)
    if not (folder / VERSION_FILE).is_file():
        known = ", ".join(v["version"] for v in list_versions(settings, schema)) or "none"
        raise RegistryError(f"version {version} is not registered for the {schema} schema (registered: {known})")
    return folder


def load_version(version: str, settings: Settings | None = None, schema: str = "extended") -> Bundle:
    """:func:`load_version_dir` of a registered ``version`` (raises :class:`RegistryError` if unknown)."""
    return load_version_dir(version_dir(version, settings, schema), schema)


# -- registering ----------------------------------------------------------------------------------------
def _card_metrics(card: Mapping[str, Any]) -> dict[str, Any]:
    from churn_core.prediction.evaluation import card_metric

    values = {m: card_metric(dict(card), m) for m in VERSION_METRICS}
    method = str(card.get("evaluation", {}).get("method", "")) or None
    return {**values, "evaluated_on": method}


def _version_name(card: Mapping[str, Any], sha: str) -> str:
    try:
        day = dt.datetime.fromisoformat(str(card["created"])).astimezone(dt.UTC).strftime("%Y%m%d")
    except (KeyError, ValueError):
        day = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    return f"{day}-{sha[:8]}"


def _register_locked(
    source: Path,
    settings: Settings | None,
    schema: str,
    trained_on: list[str],
    metrics: Mapping[str, Any] | None,
    actor: str,
    reason: str,
) -> tuple[str, bool]:
    """Register ``source`` (caller holds the lock); (version, newly added)."""
    from churn_core.prediction.training import (
        ARTIFACT_FILES,
        MANIFEST_FILE,
        MODEL_FILE,
        ModelIntegrityError,
        load_bundle,
        read_manifest,
    )

    bundle = load_bundle(source)  # refuses a tampered or untrusted source, naming its file
    _check_schema(bundle, source, schema)
    manifest = read_manifest(source)
    sha = manifest[MODEL_FILE]
    version = _version_name(bundle.card, sha)
    folder = schema_dir(settings, schema)
    final = folder / version
    if (final / VERSION_FILE).is_file():
        return version, False
    tmp = folder / f".incoming-{version}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        for name in (*ARTIFACT_FILES, MANIFEST_FILE):
            if (source / name).is_file():
                shutil.copy2(source / name, tmp / name)
        if (source / COMPILED_SUBDIR).is_dir():  # checked against the model file when it is loaded
            shutil.copytree(source / COMPILED_SUBDIR, tmp / COMPILED_SUBDIR)
        for name, digest in manifest.items():  # the copy is what the source's manifest says
            if (tmp / name).is_file() and file_sha256(tmp / name) != digest:
                raise ModelIntegrityError(tmp / name, f"copying {source / name} into the registry changed it")
        info = {
            "version": version,
            "schema": schema,
            "registered_at": _now(),
            "model_sha256": sha,
            "trained": bundle.card.get("created"),
            "trained_on": [str(d) for d in trained_on],
            "metrics": dict(metrics) if metrics is not None else _card_metrics(bundle.card),
            "source": str(source),
            "actor": actor,
        }
        (tmp / VERSION_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if final.exists():  # a folder without version.json: an interrupted copy of an older version
            shutil.rmtree(final)
        os.rename(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _append_history(settings, schema, "register", version=version, actor=actor, reason=reason,
                    trained_on=info["trained_on"], metrics=info["metrics"])  # fmt: skip
    return version, True


def register(
    bundle_path: Path,
    settings: Settings | None = None,
    schema: str = "extended",
    *,
    trained_on: list[str] | None = None,
    metrics: Mapping[str, Any] | None = None,
    actor: str = "register",
    reason: str = "",
) -> str:
    """Copy a trained bundle into the registry as a new version (the champion is not changed).

    Parameters
    ----------
    bundle_path : Path
        A folder written by training (model, background, card and manifest at least); it is checked
        with :func:`~churn_core.prediction.training.load_bundle` before anything is copied.
    settings : Settings, optional
        ``registry_dir`` is read (default: the process settings).
    schema : {"extended", "classic"}
        The model's feature set; the card and the model must match it.
    trained_on : list of str, optional
        Snapshot dates (ISO) of the training rows.
    metrics : mapping, optional
        ``roc_auc``, ``pr_auc``, ``brier`` and ``evaluated_on`` (default: the card's cross-validated means).
    actor, reason : str
        Who registers (the command) and why, for ``history.jsonl``.

    Returns
    -------
    str
        The version, ``YYYYMMDD-<8 hex>``. Registering the same model file again returns its version
        and changes nothing.

    Raises
    ------
    FileNotFoundError, ModelFileError, ValueError
        As :func:`load_version_dir` for the source folder.
    """
    with _lock(settings, schema):
        version, added = _register_locked(Path(bundle_path), settings, schema, trained_on or [], metrics, actor, reason)
    if added:
        _compile(schema_dir(settings, schema) / version)
    return version


def _seed(settings: Settings | None, schema: str) -> None:
    """Make the shipped bundle of ``schema`` the first champion, unless a champion exists."""
    pointer = champion_pointer(settings, schema)
    if pointer.exists():
        return
    from churn_core.prediction.training import bundle_dir  # only when a model is registered

    with _lock(settings, schema):
        if pointer.exists():
            return
        s = _settings(settings)
        source = bundle_dir(s.models_dir, schema)
        base = getattr(s, "base_snapshot_date", None)
        version, _ = _register_locked(
            source, settings, schema, [str(base)] if base else [], None, "seed", "first use: the shipped model"
        )
        _write_json_atomic(pointer, {"version": version, "previous": [], "promoted_at": _now(), "actor": "seed",
                                     "reason": f"first use: the shipped model in {source}"})  # fmt: skip
        _append_history(settings, schema, "promote", version=version, previous=None, actor="seed",
                        reason=f"first use: the shipped model in {source} becomes the champion")  # fmt: skip
    # not compiled here: seeding may run inside a page or a request (`churn-studio model compile`, register,
    # promote and retrain compile; a compiled form of the shipped folder is copied along)


# -- the champion -----------------------------------------------------------------------------------------
def champion_version(settings: Settings | None = None, schema: str = "extended") -> str:
    """The champion's version of ``schema`` (the shipped model is registered on first use).

    Raises
    ------
    FileNotFoundError, ModelFileError
        When no champion exists and the shipped bundle is missing or refused (the message names its file).
    RegistryError
        When ``champion.json`` is unreadable.
    """
    _seed(settings, schema)
    return str(_read_pointer(champion_pointer(settings, schema))["version"])


def champion_dir(settings: Settings | None = None, schema: str = "extended") -> Path:
    """The champion's version folder of ``schema`` (errors as :func:`champion_version`)."""
    return schema_dir(settings, schema) / champion_version(settings, schema)


def champion_info(settings: Settings | None = None, schema: str = "extended") -> dict:
    """The champion's ``version.json`` (version, schema, registered_at, model_sha256, trained_on, metrics)."""
    return json.loads((champion_dir(settings, schema) / VERSION_FILE).read_text(encoding="utf-8"))


def champion_stamp(settings: Settings | None = None, schema: str = "extended") -> tuple[int, int, int] | None:
    """(mtime ns, size, inode) of ``champion.json``, None if absent: one ``stat``, to notice a promotion."""
    try:
        stat = champion_pointer(settings, schema).stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def load_champion(settings: Settings | None = None, schema: str = "extended") -> tuple[Bundle, str]:
    """The champion of ``schema``, loaded with every check, and its version.

    Returns
    -------
    (Bundle, str)

    Raises
    ------
    FileNotFoundError, ModelFileError, ValueError
        As :func:`champion_version` and :func:`load_version_dir`.
    """
    version = champion_version(settings, schema)
    return load_version_dir(schema_dir(settings, schema) / version, schema), version


# -- listing, promoting, rolling back ----------------------------------------------------------------------
def list_versions(settings: Settings | None = None, schema: str = "extended") -> list[dict]:
    """Every registered version of ``schema``, oldest registration first.

    Returns
    -------
    list of dict
        Each ``version.json`` plus ``champion`` (bool). The shipped model is registered on first use.
    """
    try:
        _seed(settings, schema)
        current = str(_read_pointer(champion_pointer(settings, schema))["version"])
    except (OSError, ValueError):  # nothing to seed from, or a broken pointer: list what is there
        current = None
    folder = schema_dir(settings, schema)
    rows = []
    for info_path in sorted(folder.glob(f"*/{VERSION_FILE}")):
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except ValueError:
            logger.warning("unreadable %s skipped in the version list", info_path)
            continue
        rows.append({**info, "champion": info.get("version") == current})
    return sorted(rows, key=lambda r: (str(r.get("registered_at", "")), str(r.get("version", ""))))


def promote(
    version: str,
    reason: str,
    settings: Settings | None = None,
    schema: str = "extended",
    *,
    actor: str = "churn-studio model promote",
    details: Mapping[str, Any] | None = None,
) -> dict:
    """Make a registered ``version`` the champion (it is loaded and checked first).

    Parameters
    ----------
    version : str
        A registered version (``model list``).
    reason : str
        Why, for ``history.jsonl``.
    settings : Settings, optional
    schema : {"extended", "classic"}
    actor : str
        The command that promotes.
    details : mapping, optional
        More fields for the history entry (the metrics behind a retraining decision).

    Returns
    -------
    dict
        The new pointer (``version``, ``previous`` …).

    Raises
    ------
    RegistryError
        If the version is unknown or already the champion.
    FileNotFoundError, ModelFileError, ValueError
        If the version's files are refused (it is not promoted).
    """
    _seed(settings, schema)
    load_version(version, settings, schema)  # a tampered version never becomes champion
    pointer_path = champion_pointer(settings, schema)
    with _lock(settings, schema):
        old = _read_pointer(pointer_path)
        if old["version"] == version:
            raise RegistryError(f"{version} is already the champion of the {schema} schema")
        previous = [*old.get("previous", []), old["version"]][-MAX_PREVIOUS:]
        pointer = {"version": version, "previous": previous, "promoted_at": _now(), "actor": actor, "reason": reason}
        _write_json_atomic(pointer_path, pointer)
        _append_history(settings, schema, "promote", version=version, previous=old["version"], actor=actor,
                        reason=reason, **dict(details or {}))  # fmt: skip
    logger.info("promoted %s (%s schema) over %s: %s", version, schema, old["version"], reason)
    _compile(schema_dir(settings, schema) / version)
    return pointer


def rollback(
    settings: Settings | None = None,
    schema: str = "extended",
    *,
    reason: str = "rolled back by hand",
    actor: str = "churn-studio model rollback",
) -> str:
    """Make the previous champion the champion again.

    Returns
    -------
    str
        The version that is champion now.

    Raises
    ------
    RegistryError
        If there is no previous champion (only the first one was ever promoted).
    FileNotFoundError, ModelFileError, ValueError
        If the previous champion's files are refused (nothing changes).
    """
    _seed(settings, schema)
    pointer_path = champion_pointer(settings, schema)
    with _lock(settings, schema):
        old = _read_pointer(pointer_path)
        previous = list(old.get("previous", []))
        if not previous:
            raise RegistryError(
                f"no previous champion to roll back to: {old['version']} is the first champion of the {schema} schema"
            )
        target = previous.pop()
        load_version(target, settings, schema)
        pointer = {"version": target, "previous": previous, "promoted_at": _now(), "actor": actor, "reason": reason}
        _write_json_atomic(pointer_path, pointer)
        _append_history(settings, schema, "rollback", version=target, previous=old["version"], actor=actor,
                        reason=reason)  # fmt: skip
    logger.info("rolled back the %s champion from %s to %s", schema, old["version"], target)
    _compile(schema_dir(settings, schema) / target)
    return target


def reject(
    version: str,
    reason: str,
    settings: Settings | None = None,
    schema: str = "extended",
    *,
    actor: str = "churn-studio retrain",
    details: Mapping[str, Any] | None = None,
) -> dict:
    """Record that ``version`` was not promoted, and why (the champion is unchanged).

    Returns
    -------
    dict
        The history entry written.
    """
    with _lock(settings, schema):
        return _append_history(settings, schema, "reject", version=version, actor=actor, reason=reason,
                               **dict(details or {}))  # fmt: skip


def history(settings: Settings | None = None, schema: str = "extended") -> list[dict]:
    """The decisions of ``schema``, oldest first (``time``, ``event``, ``version``, ``actor``, ``reason`` …).

    A line that cannot be read (a write cut short) is skipped with a warning in the log.
    """
    path = schema_dir(settings, schema) / HISTORY_FILE
    if not path.exists():
        return []
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            logger.warning("%s line %d is not JSON; skipped", path, number)
    return out
