"""Training, evaluation and persistence of the churn model (artifacts under ``models/``).

Artifacts (all small enough to commit):

- ``churn_ensemble.skops``: the fitted :class:`churn_core.prediction.ensemble.ChurnEnsemble`, saved
  with skops (no pickle);
- ``explainer_background.parquet``: 200 training customers for the linear SHAP explainer;
- ``model_card.json``: data hash, features, versions, metrics, timing, date, and ``trusted_types``:
  the exact types the model file holds beyond skops' own safe defaults;
- ``leaderboard.csv``: every candidate of the grid, 5×``n_repeats`` repeated CV (3 repeats by
  default), mean ± std;
- ``oof_predictions.parquet``: nested out-of-fold ensemble probabilities per customer,
  for the evaluation plots (ROC, PR, calibration, lift, profit);
- ``manifest.json``: the SHA-256 of every other artifact (:func:`write_manifest`).

:func:`train` runs the steps in order: the card header, :func:`fit_final_model`,
:func:`evaluate_and_write_oof` (nested 5×``n_repeats`` CV of the ensemble on the extended
features, and 5×1 on the classic Kaggle columns), :func:`write_leaderboard`, :func:`write_card`
and :func:`write_manifest`.

Model files never run code. :func:`load_bundle`

1. reads each file it needs once, and refuses it unless its SHA-256 is the one in ``manifest.json``
   (:class:`ModelIntegrityError`): a file changed after training (by hand, by a partial copy, by
   an attacker who cannot also rewrite the manifest) is not loaded;
2. trusts exactly the card's ``trusted_types``, and only if each of them is also in
   :data:`ALLOWED_MODEL_TYPES`, the reviewed allow-list kept in code: a tampered card cannot widen
   trust (:class:`UntrustedModelError` names the types it tried to add);
3. lets skops check the file against that list (``skops.io.loads(..., trusted=...)``) before any
   object is built: a file holding any other type (``builtins.exec``, ``builtins.eval``,
   ``os.system``, ``numpy.save``…) is refused with :class:`UntrustedModelError` naming the types,
   and nothing in it runs.

The hashes protect against accidents and partial tampering; the allow-list in code is what keeps
a file written by someone who controls the whole ``models/`` folder from running code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException

from churn_core.config import MODELS_DIR
from churn_core.data.loading import file_sha256
from churn_core.data.schema import LEAKAGE_COLUMNS, TARGET
from churn_core.escaping import write_csv
from churn_core.prediction.business import Economics
from churn_core.prediction.ensemble import ChurnEnsemble
from churn_core.prediction.features import FEATURE_SETS, MODEL_FEATURES, feature_frame
from churn_core.prediction.metrics import METRICS
from churn_core.prediction.model_selection import SEED, CVResult, candidate_grid, cross_validate, cv_splits, leaderboard

MODEL_FILE = "churn_ensemble.skops"
CARD_FILE = "model_card.json"
LEADERBOARD_FILE = "leaderboard.csv"
OOF_FILE = "oof_predictions.parquet"
BACKGROUND_FILE = "explainer_background.parquet"
MANIFEST_FILE = "manifest.json"
#: Artifacts whose SHA-256 :func:`write_manifest` records (those present); the card cannot hold its own hash.
ARTIFACT_FILES: tuple[str, ...] = (MODEL_FILE, BACKGROUND_FILE, CARD_FILE, LEADERBOARD_FILE, OOF_FILE)
#: The artifacts :func:`load_bundle` reads, each checked against the manifest.
BUNDLE_FILES: tuple[str, ...] = (MODEL_FILE, BACKGROUND_FILE, CARD_FILE)
REBUILD_HINT = (
    "rebuild the artifacts with `churn-studio train`, or, after a deliberate change to models/, "
    "record the new hashes with `churn-studio model manifest`"
)

#: Every type a model file may hold beyond what skops trusts by itself (Python primitives and
#: containers, numpy arrays and dtypes, scikit-learn estimators such as LogisticRegression,
#: StandardScaler, OneHotEncoder, ColumnTransformer), exact names, each reviewed: what
#: ``skops.io.get_untrusted_types`` reports for the ensemble :func:`fit_final_model` writes.
#: The model card's ``trusted_types`` may narrow this list, never widen it. Never add a function,
#: a module-level callable or anything from ``builtins``/``os``/``subprocess``: skops *calls* a
#: trusted type found in a constructor node, so only classes whose construction is harmless belong here.
ALLOWED_MODEL_TYPES: frozenset[str] = frozenset({
    "churn_core.prediction.ensemble.ChurnEnsemble",  # the ensemble: members, weights, calibrator (attributes only)
    "churn_core.prediction.model_selection.Candidate",  # dataclass: family, scaler, resampler, params
    "collections.OrderedDict",  # parameter dicts inside the LightGBM/XGBoost wrappers
    "imblearn.over_sampling._smote.base.SMOTE",  # the tree members' resampler (fit time only)
    "imblearn.pipeline.Pipeline",  # preprocessing -> resampling -> classifier
    "lightgbm.basic.Booster",  # restored from LightGBM's own text model format
    "lightgbm.sklearn.LGBMClassifier",
    "xgboost.core.Booster",  # restored from XGBoost's own binary model format
    "xgboost.sklearn.XGBClassifier",
})  # fmt: skip
LIBRARIES: tuple[str, ...] = (
    "scikit-learn", "imbalanced-learn", "lightgbm", "xgboost-cpu", "optuna", "shap", "skops", "pandas", "numpy",
)  # fmt: skip

Progress = Callable[[float, str], None]


def _quiet(fraction: float, message: str) -> None:
    return None


N_FOLDS = 5  # outer folds of every cross-validation here


class ModelFileError(ValueError):
    """A model artifact that must not be loaded; the message names the file and what to do.

    Attributes
    ----------
    path : Path
        The refused file.
    """

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = Path(path)


class ModelIntegrityError(ModelFileError):
    """An artifact whose SHA-256 differs from ``manifest.json``, or has no entry there (or no manifest)."""


class UntrustedModelError(ModelFileError, TypeError):
    """A model file (or its card) naming types outside the trusted list; nothing in the file was run.

    Attributes
    ----------
    path : Path
        The refused model file or model card.
    types : list of str
        The offending fully qualified type names, sorted.
    """

    def __init__(self, path: Path, types: list[str], message: str) -> None:
        super().__init__(path, message)
        self.types = sorted(types)


def model_file_types(path: Path) -> list[str]:
    """The types a skops model file holds beyond skops' own trusted defaults, as skops reports them.

    Reads only the file's schema: nothing in the file is built or run.

    Parameters
    ----------
    path : Path
        A ``.skops`` file.

    Returns
    -------
    list of str
        Fully qualified type names, sorted (what :func:`fit_final_model` writes into the card as
        ``trusted_types``).
    """
    return sorted(sio.get_untrusted_types(file=Path(path)))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_manifest(directory: Path = MODELS_DIR) -> Path:
    """Record the SHA-256 of every artifact present in ``directory`` in :data:`MANIFEST_FILE`.

    Called at the end of :func:`train`; run it by hand (``churn-studio model manifest``) only after
    a deliberate change to an artifact, since it makes :func:`load_bundle` accept the files as they are.

    Parameters
    ----------
    directory : Path
        Folder of the artifacts (``models/`` by default).

    Returns
    -------
    Path
        The manifest written: ``{"about": ..., "sha256": {file name: hex digest}}`` for those of
        :data:`ARTIFACT_FILES` that exist.
    """
    directory = Path(directory)
    hashes = {name: file_sha256(directory / name) for name in ARTIFACT_FILES if (directory / name).is_file()}
    manifest = {
        "about": "SHA-256 of each model artifact, written by `churn-studio train` (or `churn-studio model "
        "manifest`); load_bundle refuses a file whose hash differs or is not listed.",
        "sha256": hashes,
    }
    path = directory / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def read_manifest(directory: Path = MODELS_DIR) -> dict[str, str]:
    """The recorded SHA-256 of each artifact (file name → hex digest).

    Parameters
    ----------
    directory : Path
        Folder of the artifacts.

    Raises
    ------
    ModelIntegrityError
        If :data:`MANIFEST_FILE` is missing or unreadable.
    """
    path = Path(directory) / MANIFEST_FILE
    try:
        hashes = json.loads(path.read_text(encoding="utf-8"))["sha256"]
        if not isinstance(hashes, dict):
            raise TypeError("sha256 is not an object")
    except FileNotFoundError:
        message = f"{path} is missing, so no model file can be checked: {REBUILD_HINT}."
        raise ModelIntegrityError(path, message) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(path, f"{path} is not a valid manifest ({exc}): {REBUILD_HINT}.") from None
    return {str(k): str(v) for k, v in hashes.items()}


def verified_bytes(directory: Path, name: str, manifest: dict[str, str] | None = None) -> bytes:
    """Read an artifact once and return its bytes only if their SHA-256 is the manifest's.

    Parameters
    ----------
    directory : Path
        Folder of the artifacts.
    name : str
        File name, one of :data:`ARTIFACT_FILES`.
    manifest : dict, optional
        From :func:`read_manifest` (read here if not given).

    Returns
    -------
    bytes
        The file's content, exactly the bytes that were checked (no second read to race with).

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ModelIntegrityError
        If the manifest has no entry for the file or records another hash.
    """
    manifest = read_manifest(directory) if manifest is None else manifest
    path = Path(directory) / name
    data = path.read_bytes()
    expected, found = manifest.get(name), _sha256(data)
    if expected is None:
        message = f"{path} has no SHA-256 in {MANIFEST_FILE}, so it is not loaded: {REBUILD_HINT}."
        raise ModelIntegrityError(path, message)
    if expected != found:
        raise ModelIntegrityError(
            path,
            f"{path} changed after training: its SHA-256 is {found[:16]}…, {MANIFEST_FILE} records "
            f"{expected[:16]}…; it is not loaded. To fix it, {REBUILD_HINT}.",
        )
    return data


def trusted_types(card: dict, card_path: Path) -> list[str]:
    """The types to trust in the model file: the card's ``trusted_types``, all of them in :data:`ALLOWED_MODEL_TYPES`.

    Parameters
    ----------
    card : dict
        The model card.
    card_path : Path
        Where the card was read (for the error message).

    Returns
    -------
    list of str
        The card's list, sorted (empty if the card has none: then only skops' defaults are trusted).

    Raises
    ------
    UntrustedModelError
        If the card lists a type outside :data:`ALLOWED_MODEL_TYPES` (a card cannot widen trust).
    """
    listed = card.get("trusted_types") or []
    if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
        raise UntrustedModelError(card_path, [], f"{card_path}: trusted_types must be a list of type names.")
    extra = sorted(set(listed) - ALLOWED_MODEL_TYPES)
    if extra:
        raise UntrustedModelError(
            card_path,
            extra,
            f"{card_path} trusts types that the allow-list in code (ALLOWED_MODEL_TYPES in "
            f"churn_core/prediction/training.py) does not allow: {extra}; the model is not loaded. "
            "Review each type before adding it to ALLOWED_MODEL_TYPES, then retrain with `churn-studio train`.",
        )
    return sorted(listed)


def load_model_bytes(data: bytes, trusted: list[str], path: Path) -> ChurnEnsemble:
    """Build a :class:`ChurnEnsemble` from skops bytes, trusting exactly ``trusted`` beyond skops' defaults.

    skops audits the whole file against the list before it builds any object, so a refused file
    runs nothing.

    Parameters
    ----------
    data : bytes
        Content of a ``.skops`` file.
    trusted : list of str
        Fully qualified type names to trust (see :func:`trusted_types`).
    path : Path
        Where ``data`` came from (for the error message).

    Raises
    ------
    UntrustedModelError
        If the file holds a type outside ``trusted`` and skops' defaults (named in the message), or
        does not hold a :class:`ChurnEnsemble`.
    """
    try:
        model = sio.loads(data, trusted=trusted)
    except UntrustedTypesFoundException:
        found = sorted(set(sio.get_untrusted_types(data=data)) - set(trusted))
        raise UntrustedModelError(
            path,
            found,
            f"{path} holds types outside the model card's trusted_types: {found}; it is not loaded and "
            f"nothing in it ran. A model file may only hold the types listed in the card. To fix it, {REBUILD_HINT}.",
        ) from None
    if not isinstance(model, ChurnEnsemble):
        held = f"{type(model).__module__}.{type(model).__qualname__}"
        message = f"{path} holds a {held}, not a ChurnEnsemble; it is not used. To fix it, {REBUILD_HINT}."
        raise UntrustedModelError(path, [held], message)
    return model


@dataclass
class Bundle:
    """A loaded model with what the app needs beside it.

    Attributes
    ----------
    model : ChurnEnsemble
        The fitted ensemble.
    background : pandas.DataFrame of shape (200, n_features)
        Training customers for the SHAP explainer (the model's feature columns).
    card : dict
        The model card (see :func:`train`).
    """

    model: ChurnEnsemble
    background: pd.DataFrame
    card: dict


def load_bundle(directory: Path = MODELS_DIR) -> Bundle:
    """Load the model, explainer background and model card from ``directory``.

    Parameters
    ----------
    directory : Path
        Folder of the artifacts (``models/`` by default).

    Returns
    -------
    Bundle
        The model (set to use every CPU core for inference), its background and its card.

    Raises
    ------
    FileNotFoundError
        If the artifacts are missing (run ``churn-studio train``).
    ModelIntegrityError
        If the manifest is missing, or the model file, background or card is not listed in it or
        differs from its recorded SHA-256 (the message names the file and how to rebuild it).
    UntrustedModelError
        If the card trusts a type outside :data:`ALLOWED_MODEL_TYPES`, or the model file holds a
        type outside the card's ``trusted_types`` (and skops' defaults); nothing in the file runs.
    """
    directory = Path(directory)
    path = directory / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `churn-studio train`")
    manifest = read_manifest(directory)
    data, background_data, card_data = (verified_bytes(directory, name, manifest) for name in BUNDLE_FILES)
    card = json.loads(card_data.decode("utf-8"))
    model = load_model_bytes(data, trusted_types(card, directory / CARD_FILE), path)
    model.set_inference_threads(os.cpu_count() or 1)
    background = pd.read_parquet(io.BytesIO(background_data))
    return Bundle(model, background, card)


#: Folder of each schema's model under the models folder (:func:`bundle_dir`).
MODEL_SUBDIRS: dict[str, str] = {"extended": "", "classic": "classic"}


def bundle_dir(models_dir: Path = MODELS_DIR, schema: str = "extended") -> Path:
    """The folder of the model trained on ``schema``'s features: ``models/`` or ``models/classic/``.

    Parameters
    ----------
    models_dir : Path
        The models folder (settings ``models_dir``).
    schema : {"extended", "classic"}
        A key of :data:`churn_core.data.schema.SCHEMAS`.

    Raises
    ------
    ValueError
        If ``schema`` has no model.
    """
    if schema not in MODEL_SUBDIRS:
        raise ValueError(f"no model for schema {schema!r}; expected one of {sorted(MODEL_SUBDIRS)}")
    return Path(models_dir) / MODEL_SUBDIRS[schema] if MODEL_SUBDIRS[schema] else Path(models_dir)


def load_schema_bundle(schema: str, models_dir: Path = MODELS_DIR) -> Bundle:
    """:func:`load_bundle` of the model for ``schema`` (same manifest and trusted-type checks).

    Parameters
    ----------
    schema : {"extended", "classic"}
        The schema of the customers to score (:func:`churn_core.data.schema.detect_schema`).
    models_dir : Path
        The models folder (settings ``models_dir``).

    Returns
    -------
    Bundle

    Raises
    ------
    FileNotFoundError, ModelIntegrityError, UntrustedModelError, ValueError
        As :func:`load_bundle`; ``ValueError`` for a schema without a model, or a bundle whose
        card declares another schema or whose model uses other features than the schema's.
    """
    directory = bundle_dir(models_dir, schema)
    bundle = load_bundle(directory)
    card_schema = bundle.card.get("schema", "extended")
    if card_schema != schema or tuple(bundle.model.features) != tuple(FEATURE_SETS[schema]):
        raise ValueError(
            f"{directory / CARD_FILE} is a model for the {card_schema!r} schema with features "
            f"{list(bundle.model.features)}, not for {schema!r}: retrain it with `churn-studio train --schema {schema}`"
        )
    return bundle


def model_label(card: dict) -> dict[str, str]:
    """Which model this is, for messages: ``name`` (``churn-ensemble-classic`` …), ``schema`` and ``version``.

    Parameters
    ----------
    card : dict
        A model card (cards written before the classic model have no ``name``/``schema``: extended).

    Returns
    -------
    dict of str
        ``name``, ``schema`` and ``version`` (the training time stamp of the card, UTC).
    """
    schema = str(card.get("schema", "extended"))
    return {
        "name": str(card.get("name", f"churn-ensemble-{schema}")),
        "schema": schema,
        "version": str(card.get("created", "")),
    }


def artifacts_exist(directory: Path = MODELS_DIR) -> bool:
    """True when :data:`MODEL_FILE`, :data:`BACKGROUND_FILE` and :data:`CARD_FILE` are all in ``directory``.

    Parameters
    ----------
    directory : Path
        Where :func:`load_bundle` would look.
    """
    return all((Path(directory) / f).exists() for f in (MODEL_FILE, BACKGROUND_FILE, CARD_FILE))


def _summary_dict(result: CVResult) -> dict:
    s = result.summary()
    return {
        group: {m: {"mean": float(s.loc[group, f"{m}_mean"]), "std": float(s.loc[group, f"{m}_std"])} for m in METRICS}
        for group in ("all", "seniors")
    }


def evaluate_ensemble(
    customers: pd.DataFrame,
    features: tuple[str, ...] = MODEL_FEATURES,
    tune_trials: int = 20,
    n_repeats: int = 3,
    threshold: float = 0.5,
    n_jobs: int = 2,
) -> CVResult:
    """Nested repeated 5-fold CV of the whole ensemble (tuning, weights, calibration inside).

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers with the churn target and ``is_senior``.
    features : tuple of str
        Feature columns the ensemble uses.
    tune_trials : int
        Optuna trials per member, inside each outer training fold (0: default parameters).
    n_repeats : int
        Repeats of the stratified 5-fold split (churn × senior strata).
    threshold : float
        Churn probability, in [0, 1], above which a customer counts as predicted to churn
        (for F1, precision and recall).
    n_jobs : int
        Outer folds fitted in parallel.

    Returns
    -------
    CVResult
        Out-of-fold probabilities of shape (n_repeats, n_customers) and per-fold metrics.
    """
    X = feature_frame(customers, features)
    y = customers[TARGET].to_numpy()
    senior = customers["is_senior"].to_numpy()
    splits = cv_splits(y, senior, N_FOLDS, n_repeats, SEED)
    model = ChurnEnsemble(features=features, tune_trials=tune_trials)
    return cross_validate(model, X, y, senior, splits, threshold, "ensemble", n_jobs=n_jobs)


def evaluate_grid(
    customers: pd.DataFrame, threshold: float, n_repeats: int = 3, progress: Progress = _quiet
) -> pd.DataFrame:
    """5×``n_repeats`` CV of every candidate of the grid.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers with the churn target and ``is_senior``.
    threshold : float
        Churn probability, in [0, 1], above which a customer counts as predicted to churn.
    n_repeats : int
        Repeats of the stratified 5-fold split.
    progress : callable (fraction in [0, 1], message) -> None
        Called before each candidate.

    Returns
    -------
    pandas.DataFrame of shape (n_candidates, n_columns)
        The leaderboard: one row per candidate, mean and std of every metric (all customers, seniors).
    """
    X = feature_frame(customers)
    y = customers[TARGET].to_numpy()
    senior = customers["is_senior"].to_numpy()
    splits = cv_splits(y, senior, N_FOLDS, n_repeats, SEED)
    grid = candidate_grid()
    results = []
    for i, cand in enumerate(grid):
        progress(i / len(grid), f"candidate {cand.name}")
        results.append(cross_validate(cand.pipeline(), X, y, senior, splits, threshold, cand.name))
    return leaderboard(results)


def _previous_evaluation(out_dir: Path) -> dict:
    """The ``evaluation`` of the card already in ``out_dir`` ({} if there is none)."""
    path = out_dir / CARD_FILE
    return json.loads(path.read_text(encoding="utf-8")).get("evaluation", {}) if path.exists() else {}


def _model_card_header(
    customers: pd.DataFrame,
    raw_csv: Path,
    economics: Economics,
    threshold: float,
    evaluation: dict,
    schema: str = "extended",
) -> dict:
    """The model card up to ``evaluation`` (which the later steps may replace): data, features, versions."""
    return {
        "name": f"churn-ensemble-{schema}",
        "schema": schema,
        "model": "ChurnEnsemble: weighted soft voting of LightGBM, XGBoost and logistic regression, "
        "optuna-tuned, Platt-calibrated",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_data": {
            "file": raw_csv.name,
            "sha256": file_sha256(raw_csv),
            "n_customers": len(customers),
            "churn_rate": float(customers[TARGET].mean()),
        },
        "features": list(FEATURE_SETS[schema]),
        "excluded_leakage_columns": list(LEAKAGE_COLUMNS),
        "seed": SEED,
        "economics": economics.model_dump(),
        "operating_threshold": threshold,
        "versions": {"python": platform.python_version(), **{lib: version(lib) for lib in LIBRARIES}},
        "evaluation": evaluation,
    }


def fit_final_model(
    customers: pd.DataFrame,
    out_dir: Path,
    tune_trials: int = 20,
    progress: Progress = _quiet,
    features: tuple[str, ...] = MODEL_FEATURES,
) -> dict:
    """Fit the ensemble on all customers; write it (:data:`MODEL_FILE`) and the explainer background.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers with the churn target; at least 200 of them.
    out_dir : Path
        Existing folder for :data:`MODEL_FILE` and :data:`BACKGROUND_FILE` (200 customers drawn
        with :data:`SEED`, the model's feature columns).
    tune_trials : int
        Optuna trials per member (0: default parameters).
    progress : callable (fraction in [0, 1], message) -> None
    features : tuple of str
        The feature set (:data:`churn_core.prediction.features.FEATURE_SETS`; extended by default).

    Returns
    -------
    dict
        Model-card entries: ``training_seconds`` (wall-clock seconds of the fit), ``members``
        (name, voting weight and tuned parameters of each member) and ``trusted_types`` (the types
        the written model file holds beyond skops' defaults, :func:`model_file_types`).

    Raises
    ------
    UntrustedModelError
        If the fitted model holds a type outside :data:`ALLOWED_MODEL_TYPES` (a new library version or
        member): review it and add it to the allow-list, or :func:`load_bundle` could not load the model.
    """
    progress(0.02, "final fit on all customers")
    X = feature_frame(customers, features)
    y = customers[TARGET].to_numpy()
    start = time.perf_counter()
    model = ChurnEnsemble(features=tuple(features), tune_trials=tune_trials).fit(X, y)
    entries = {
        "training_seconds": time.perf_counter() - start,
        "members": [
            {"name": name, "weight": float(w), "tuned_params": model.tuned_params_.get(name, {})}
            for (name, _), w in zip(model.members_, model.weights_, strict=True)
        ],
    }
    sio.dump(model, out_dir / MODEL_FILE)
    X.sample(200, random_state=SEED).to_parquet(out_dir / BACKGROUND_FILE, index=False)
    entries["trusted_types"] = model_file_types(out_dir / MODEL_FILE)
    unreviewed = sorted(set(entries["trusted_types"]) - ALLOWED_MODEL_TYPES)
    if unreviewed:
        raise UntrustedModelError(
            out_dir / MODEL_FILE,
            unreviewed,
            f"the newly trained {out_dir / MODEL_FILE} holds types not on ALLOWED_MODEL_TYPES: {unreviewed}; "
            "review each one and add it to churn_core/prediction/training.py before training again.",
        )
    return entries


def evaluate_and_write_oof(
    customers: pd.DataFrame,
    out_dir: Path,
    threshold: float,
    tune_trials: int = 20,
    n_repeats: int = 3,
    progress: Progress = _quiet,
) -> dict:
    """Nested CV of the ensemble on the extended and on the classic features; write :data:`OOF_FILE`.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers with ``customer_id``, the churn target, ``is_senior`` and ``monthly_charges``.
    out_dir : Path
        Existing folder for :data:`OOF_FILE`: one row per customer with ``customer_id``, ``churn_flag``,
        ``is_senior``, ``monthly_charges`` (USD per month), ``proba`` (mean out-of-fold churn
        probability over the repeats) and ``proba_repeat_0`` … ``proba_repeat_{n_repeats-1}``.
    threshold : float
        Churn probability, in [0, 1], for F1, precision and recall.
    tune_trials : int
        Optuna trials per member inside each outer training fold.
    n_repeats : int
        Repeats of the 5-fold CV on the extended features (the classic-feature variant runs once).
    progress : callable (fraction in [0, 1], message) -> None

    Returns
    -------
    dict
        The card's ``evaluation``: method, threshold, and mean/std of every metric for all customers
        and for seniors, on the extended and on the classic features.
    """
    n_classic = len(FEATURE_SETS["classic"])
    progress(0.25, f"nested {N_FOLDS}×{n_repeats} CV of the ensemble (extended features)")
    result = evaluate_ensemble(customers, tune_trials=tune_trials, n_repeats=n_repeats, threshold=threshold)
    progress(0.55, f"nested {N_FOLDS}-fold CV of the ensemble ({n_classic} classic features)")
    classic = evaluate_ensemble(customers, FEATURE_SETS["classic"], tune_trials, n_repeats=1, threshold=threshold)
    _write_oof(customers, result, out_dir)
    return {
        "method": f"nested repeated stratified {N_FOLDS}-fold CV ({n_repeats} repeats, stratified on churn x senior); "
        "optuna tuning, ensemble weights and calibration are fitted inside each outer training fold",
        "threshold_for_f1_precision_recall": threshold,
        "extended_features": _summary_dict(result),
        "classic_features": _summary_dict(classic),
        "classic_features_method": f"the same nested pipeline on the {n_classic} classic Kaggle columns, "
        f"{N_FOLDS} folds x 1 repeat",
    }


def evaluate_schema_and_write_oof(
    customers: pd.DataFrame,
    out_dir: Path,
    threshold: float,
    schema: str,
    tune_trials: int = 20,
    n_repeats: int = 3,
    progress: Progress = _quiet,
) -> dict:
    """Nested CV of the ensemble on one feature set only (the classic model's card); write :data:`OOF_FILE`.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers with ``customer_id``, the churn target, ``is_senior``, ``monthly_charges``
        and every column of ``FEATURE_SETS[schema]``.
    out_dir : Path
        Existing folder for :data:`OOF_FILE` (columns as in :func:`evaluate_and_write_oof`).
    threshold : float
        Churn probability, in [0, 1], for F1, precision and recall.
    schema : {"extended", "classic"}
        Key of :data:`churn_core.prediction.features.FEATURE_SETS`.
    tune_trials : int
        Optuna trials per member inside each outer training fold.
    n_repeats : int
        Repeats of the stratified 5-fold split.
    progress : callable (fraction in [0, 1], message) -> None

    Returns
    -------
    dict
        The card's ``evaluation``: method, threshold and ``{schema}_features`` (mean/std of every
        metric for all customers and for seniors, from out-of-fold probabilities).
    """
    features = FEATURE_SETS[schema]
    progress(0.25, f"nested {N_FOLDS}x{n_repeats} CV of the ensemble ({len(features)} {schema} features)")
    result = evaluate_ensemble(customers, features, tune_trials, n_repeats=n_repeats, threshold=threshold)
    _write_oof(customers, result, out_dir)
    return {
        "method": f"nested repeated stratified {N_FOLDS}-fold CV ({n_repeats} repeats, stratified on churn x senior) "
        f"on the {len(features)} {schema} features; optuna tuning ({tune_trials} trials per tuned member), "
        "ensemble weights and calibration are fitted inside each outer training fold; metrics from probabilities",
        "threshold_for_f1_precision_recall": threshold,
        f"{schema}_features": _summary_dict(result),
    }


def _write_oof(customers: pd.DataFrame, result: CVResult, out_dir: Path) -> None:
    pd.DataFrame(
        {
            "customer_id": customers["customer_id"],
            "churn_flag": customers[TARGET].to_numpy(),
            "is_senior": customers["is_senior"].to_numpy(),
            "monthly_charges": customers["monthly_charges"].to_numpy(),
            "proba": np.nanmean(result.oof, axis=0),
            **{f"proba_repeat_{i}": result.oof[i] for i in range(result.oof.shape[0])},
        }
    ).to_parquet(out_dir / OOF_FILE, index=False)


def write_leaderboard(
    customers: pd.DataFrame, out_dir: Path, threshold: float, n_repeats: int = 3, progress: Progress = _quiet
) -> pd.DataFrame:
    """Run :func:`evaluate_grid` and write its leaderboard to :data:`LEADERBOARD_FILE`.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        As for :func:`evaluate_grid`.
    out_dir : Path
        Existing folder for :data:`LEADERBOARD_FILE`.
    threshold, n_repeats : float, int
        As for :func:`evaluate_grid`.
    progress : callable (fraction in [0, 1], message) -> None
        Reported from 0.7 to 1.0 (the last step of :func:`train`).

    Returns
    -------
    pandas.DataFrame of shape (n_candidates, n_columns)
        The leaderboard as written.
    """
    progress(0.7, "candidate leaderboard")
    board = evaluate_grid(customers, threshold, n_repeats, lambda f, m: progress(0.7 + 0.3 * f, m))
    write_csv(board, out_dir / LEADERBOARD_FILE)
    return board


def write_card(card: dict, out_dir: Path) -> Path:
    """Write the model card as indented JSON to ``out_dir /`` :data:`CARD_FILE`.

    Parameters
    ----------
    card : dict
        JSON-serialisable model card.
    out_dir : Path
        Existing folder.

    Returns
    -------
    Path
        The file written.
    """
    path = out_dir / CARD_FILE
    path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return path


def train(
    customers: pd.DataFrame,
    raw_csv: Path,
    out_dir: Path = MODELS_DIR,
    tune_trials: int = 20,
    evaluate: bool = True,
    grid: bool = True,
    n_repeats: int = 3,
    economics: Economics | None = None,
    progress: Progress = _quiet,
    schema: str = "extended",
) -> dict:
    """Train the final ensemble on all customers, evaluate it, and write every artifact.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers (see :func:`churn_core.data.loading.load_customers`); at least 200.
    raw_csv : Path
        The file ``customers`` came from (its SHA-256 goes into the model card).
    out_dir : Path
        Folder of the artifacts (created if missing; ``models/`` by default).
    tune_trials : int
        Optuna trials per ensemble member (0: default parameters).
    evaluate : bool
        Run the nested 5×``n_repeats`` CV of the ensemble (and the 5×1 CV of the classic-feature
        variant) and write :data:`OOF_FILE`; otherwise the card keeps the evaluation of the
        previous card in ``out_dir``, if any.
    grid : bool
        Run the candidate leaderboard (the slowest step: about 20 minutes here).
    n_repeats : int
        Repeats of the 5-fold CV (evaluation and leaderboard).
    economics : Economics, optional
        Offer economics that set the operating threshold (default: from the settings).
    progress : callable (fraction in [0, 1], message) -> None
        Told of each step.
    schema : {"extended", "classic"}
        Feature set (:data:`churn_core.prediction.features.FEATURE_SETS`). The classic model is
        evaluated on its own features only (:func:`evaluate_schema_and_write_oof`) and has no
        leaderboard (``grid`` is ignored); put it in its own folder (:func:`bundle_dir`).

    Returns
    -------
    dict
        The model card, as written to :data:`CARD_FILE`; :data:`MANIFEST_FILE` records the SHA-256
        of every artifact in ``out_dir`` afterwards.

    Raises
    ------
    UntrustedModelError
        If the fitted model holds a type outside :data:`ALLOWED_MODEL_TYPES` (see :func:`fit_final_model`).
    ValueError
        If ``schema`` is unknown or ``customers`` lack its features (an extended model from a classic file).
    """
    economics = economics or Economics.from_settings()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    threshold = economics.global_threshold(customers["monthly_charges"])
    if schema not in FEATURE_SETS:
        raise ValueError(f"unknown schema {schema!r}; expected one of {sorted(FEATURE_SETS)}")
    lacking = [f for f in FEATURE_SETS[schema] if f not in customers.columns]
    if lacking:
        raise ValueError(
            f"the customers lack the {schema} features {lacking} (a classic Kaggle file?): "
            "train on the extended file, or train the classic model with `churn-studio train --schema classic`"
        )
    card = _model_card_header(customers, raw_csv, economics, threshold, _previous_evaluation(out_dir), schema)
    card.update(fit_final_model(customers, out_dir, tune_trials, progress, FEATURE_SETS[schema]))
    if evaluate and schema == "extended":
        card["evaluation"] = evaluate_and_write_oof(customers, out_dir, threshold, tune_trials, n_repeats, progress)
    elif evaluate:
        card["evaluation"] = evaluate_schema_and_write_oof(
            customers, out_dir, threshold, schema, tune_trials, n_repeats, progress
        )
    if grid and schema == "extended":
        write_leaderboard(customers, out_dir, threshold, n_repeats, progress)
    write_card(card, out_dir)
    write_manifest(out_dir)
    progress(1.0, "done")
    return card
