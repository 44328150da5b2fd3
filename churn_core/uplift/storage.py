"""Saving and loading the fitted uplift model (skops, explicitly trusted types only).

Files in the uplift folder (:func:`uplift_dir`: ``uplift/`` next to the warehouse file, i.e.
``data/uplift/`` by default):

* ``uplift_model.skops``: the fitted :class:`~churn_core.uplift.model.UpliftModel` (skops, no pickle);
* ``uplift_card.json``: campaigns, counts, whether the outcomes were simulated (and under which
  assumption), parameters, features, the model file's SHA-256 and ``trusted_types``: the types the
  file holds beyond skops' safe defaults;
* ``uplift_evaluation.json``: the cross-validated evaluation (:class:`~churn_core.uplift.evaluation.UpliftEvaluation`).

:func:`load_uplift` checks the model file's SHA-256 against the card (a changed file is refused
with its name), trusts exactly the card's types and only if each is in :data:`ALLOWED_UPLIFT_TYPES`
(a card cannot widen trust), and lets skops refuse anything else before it builds any object
(:class:`~churn_core.prediction.training.UntrustedModelError` names the types).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path

import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException

from churn_core.prediction.training import ModelIntegrityError, UntrustedModelError
from churn_core.uplift.evaluation import UpliftEvaluation
from churn_core.uplift.model import UpliftModel

MODEL_FILE = "uplift_model.skops"
CARD_FILE = "uplift_card.json"
EVALUATION_FILE = "uplift_evaluation.json"
REFIT_HINT = "fit it again with `churn-studio uplift fit --campaign CAMPAIGN`"

#: Every type an uplift model file may hold beyond skops' own defaults (numpy, scikit-learn's
#: estimators and encoders, Python containers), each reviewed: what ``skops.io.get_untrusted_types``
#: reports for the models :class:`UpliftModel` fits (T- and X-learner, LightGBM and
#: HistGradientBoosting bases). Classes only, whose construction runs nothing: never a function or
#: anything from ``builtins`` / ``os`` / ``subprocess``.
ALLOWED_UPLIFT_TYPES: frozenset[str] = frozenset({
    "churn_core.uplift.model.UpliftModel",  # the wrapper: parameters and fitted attributes only
    "causalml.inference.meta.tlearner.BaseTClassifier",  # dicts of fitted base classifiers
    "causalml.inference.meta.xlearner.BaseXClassifier",
    "collections.OrderedDict",  # parameter dicts inside LightGBM's wrappers
    "lightgbm.basic.Booster",  # restored from LightGBM's own text model format
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # arrays of tree nodes
})  # fmt: skip


def uplift_dir(settings=None) -> Path:
    """The uplift folder: ``uplift/`` beside the warehouse file (``data/uplift`` by default)."""
    from churn_core.config import get_settings

    return Path((settings or get_settings()).warehouse_path).parent / "uplift"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def save_uplift(model: UpliftModel, directory: Path, card: dict, evaluation: UpliftEvaluation | None = None) -> Path:
    """Write the fitted model, its card (with ``trusted_types`` and SHA-256) and the evaluation.

    Parameters
    ----------
    model : UpliftModel
        Fitted.
    directory : Path
        The uplift folder (created if missing).
    card : dict
        JSON-ready facts (campaigns, counts, ``simulated``, ``assumptions``…); ``trusted_types``,
        ``model_sha256``, ``params`` and ``fitted_at`` are added here.
    evaluation : UpliftEvaluation, optional
        Written to :data:`EVALUATION_FILE` (an older one is removed when None: it would describe
        another model).

    Returns
    -------
    Path
        The card written.

    Raises
    ------
    UntrustedModelError
        If the model holds a type outside :data:`ALLOWED_UPLIFT_TYPES` (nothing is written).
    """
    directory = Path(directory)
    data = sio.dumps(model)
    types = sorted(sio.get_untrusted_types(data=data))
    unreviewed = sorted(set(types) - ALLOWED_UPLIFT_TYPES)
    if unreviewed:
        raise UntrustedModelError(
            directory / MODEL_FILE, unreviewed,
            f"the uplift model holds types not reviewed in ALLOWED_UPLIFT_TYPES (churn_core/uplift/storage.py): "
            f"{unreviewed}; nothing was written",
        )  # fmt: skip
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in model.get_params().items()}
    full = {
        **card, "params": params, "trusted_types": types, "model_sha256": _sha256(data),
        "fitted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    _write_atomic(directory / MODEL_FILE, data)
    _write_atomic(directory / CARD_FILE, (json.dumps(full, indent=2, ensure_ascii=False) + "\n").encode())
    if evaluation is not None:
        save_evaluation(evaluation, directory)
    else:
        (directory / EVALUATION_FILE).unlink(missing_ok=True)
    return directory / CARD_FILE


def save_evaluation(evaluation: UpliftEvaluation, directory: Path) -> Path:
    """Write the evaluation as JSON (curves and table; no per-customer predictions)."""
    path = Path(directory) / EVALUATION_FILE
    _write_atomic(path, (json.dumps(evaluation.to_dict(), indent=1) + "\n").encode())
    return path


def read_card(directory: Path) -> dict | None:
    """The card, or None when no model was fitted (no card file)."""
    path = Path(directory) / CARD_FILE
    if not path.is_file():
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelIntegrityError(path, f"{path} is not valid JSON ({exc}); {REFIT_HINT}") from None
    if not isinstance(card, dict):
        raise ModelIntegrityError(path, f"{path} is not a JSON object; {REFIT_HINT}")
    return card


def read_evaluation(directory: Path) -> UpliftEvaluation | None:
    """The stored evaluation, or None when there is none."""
    path = Path(directory) / EVALUATION_FILE
    if not path.is_file():
        return None
    return UpliftEvaluation.from_dict(json.loads(path.read_text(encoding="utf-8")))


def load_uplift(directory: Path) -> tuple[UpliftModel, dict]:
    """Load the fitted model and its card, trusting only the card's reviewed types.

    Parameters
    ----------
    directory : Path
        The uplift folder.

    Returns
    -------
    (UpliftModel, dict)
        The model and its card.

    Raises
    ------
    FileNotFoundError
        If no model was fitted (the message says what to run).
    ModelIntegrityError
        If the model file's SHA-256 differs from the card's (nothing in it ran).
    UntrustedModelError
        If the card trusts a type outside :data:`ALLOWED_UPLIFT_TYPES`, the file holds a type the
        card does not trust, or it holds something other than an UpliftModel.
    """
    directory = Path(directory)
    card, path = read_card(directory), directory / MODEL_FILE
    if card is None or not path.is_file():
        raise FileNotFoundError(f"no uplift model in {directory}; {REFIT_HINT}")
    data = path.read_bytes()
    if _sha256(data) != card.get("model_sha256"):
        raise ModelIntegrityError(path, f"{path} changed after it was fitted (SHA-256 differs from {CARD_FILE}); "
                                  f"it is not loaded: {REFIT_HINT}")  # fmt: skip
    listed = card.get("trusted_types") or []
    if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
        raise UntrustedModelError(directory / CARD_FILE, [], f"{CARD_FILE}: trusted_types must be a list of names")
    extra = sorted(set(listed) - ALLOWED_UPLIFT_TYPES)
    if extra:
        raise UntrustedModelError(
            directory / CARD_FILE, extra,
            f"{directory / CARD_FILE} trusts types outside ALLOWED_UPLIFT_TYPES: {extra}; the model is not loaded",
        )  # fmt: skip
    try:
        model = sio.loads(data, trusted=sorted(listed))
    except UntrustedTypesFoundException:
        found = sorted(set(sio.get_untrusted_types(data=data)) - set(listed))
        raise UntrustedModelError(
            path,
            found,
            f"{path} holds types outside the card's trusted_types: {found}; nothing in it ran. {REFIT_HINT}",
        ) from None
    if not isinstance(model, UpliftModel):
        held = f"{type(model).__module__}.{type(model).__qualname__}"
        raise UntrustedModelError(path, [held], f"{path} holds a {held}, not an UpliftModel; {REFIT_HINT}")
    return model, card
