"""Dependencies of the API routes: the settings, the warehouse, the serving model and the API key.

The model the prediction routes use comes from one function, :func:`load_model`: the model
registry's champion (:mod:`churn_core.prediction.registry`; on first use the shipped model of
``models/`` is registered and becomes champion). It is loaded once per process on first use (or at
start-up, standalone) and kept in ``app.state``. Every request checks the champion pointer
(``champion.json``) with one ``stat``: after ``churn-studio model promote`` / ``rollback`` /
``retrain`` the next request loads the new champion (one load at a time) and answers with its version.

:func:`require_api_key` checks the ``X-API-Key`` header against the settings' digests
(:mod:`api.keys`; 401 when missing, unknown or revoked) and then the key's rate limit (``limits``
moving window in memory, per key; 429 with ``Retry-After``).

The settings are the ones :func:`api.main.create_app` was given (``app.state.settings``).

Mounted in the Streamlit process (``app.py``), every request uses the process's one
warehouse, shared with the app (:func:`churn_core.studio.shared_warehouse`). Standalone, the
warehouse is opened per request on DuckDB and closed after it: DuckDB lets one process
at a time hold the file, so the API holds it only for the few milliseconds of a write (the
app or a command holding it makes the write wait up to 10 s, then fail: a 503). On BigQuery
one client is shared by every request of the process. Opening never touches the data; the
first query does, inside the route, where a failure becomes a 503.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from api.keys import match_api_key
from churn_core.config import Settings
from churn_core.data.warehouse import Warehouse, open_warehouse


def get_settings(request: Request) -> Settings:
    """The settings of the running app."""
    return request.app.state.settings


def get_warehouse(request: Request) -> Iterator[Warehouse]:
    """The settings' warehouse for one request (see the module docstring); never built here."""
    settings: Settings = request.app.state.settings
    if settings.warehouse_backend == "duckdb" and not request.app.state.in_app_process:
        wh = open_warehouse(settings)
        try:
            yield wh
        finally:
            wh.close()
        return
    yield request.app.state.warehouse  # made by create_app (no connection until the first query)


SettingsDep = Annotated[Settings, Depends(get_settings)]
WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]


@dataclass
class ServingModel:
    """The model the prediction routes use, with what they need beside it.

    Attributes
    ----------
    bundle : churn_core.prediction.training.Bundle
        Model, explainer background and model card.
    ref : dict of str
        ``name``, ``schema``, ``version`` (the registry version, ``YYYYMMDD-<8 hex>``) and ``sha256``
        of the model file.
    stamp : tuple or None
        :func:`churn_core.prediction.registry.champion_stamp` of the pointer the model was loaded from.
    """

    bundle: Any
    ref: dict[str, str]
    stamp: tuple | None = None
    _explainer: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def model(self):
        """The fitted :class:`churn_core.prediction.ensemble.ChurnEnsemble`."""
        return self.bundle.model

    def explainer(self):
        """The SHAP explainer of the model (:class:`churn_core.prediction.explain.EnsembleExplainer`), made once."""
        with self._lock:
            if self._explainer is None:
                from churn_core.prediction.explain import EnsembleExplainer

                self._explainer = EnsembleExplainer(self.bundle.model, self.bundle.background)
            return self._explainer


def load_model(settings: Settings, schema: str = "extended") -> ServingModel:
    """Load the model that serves predictions: the one place that decides which model it is.

    The registry's champion for ``schema`` (:func:`churn_core.prediction.registry.load_champion`:
    the manifest and trusted-type checks of every load, and the shipped model of
    ``settings.models_dir`` registered as champion on first use).

    Parameters
    ----------
    settings : Settings
        ``registry_dir`` and ``models_dir`` are read.
    schema : {"extended", "classic"}
        Schema of the customers the model scores.

    Returns
    -------
    ServingModel

    Raises
    ------
    FileNotFoundError, ModelFileError, ValueError
        As :func:`~churn_core.prediction.registry.load_champion` (no model, changed file,
        untrusted type, wrong schema, unreadable champion pointer).
    """
    from churn_core.prediction.registry import champion_stamp, load_champion
    from churn_core.prediction.training import model_label

    stamp = champion_stamp(settings, schema)
    bundle, version = load_champion(settings, schema)
    if stamp is None:  # the pointer was written by this first load (seeding)
        stamp = champion_stamp(settings, schema)
    bundle.model.set_inference_threads(1)  # requests run in parallel threads; one row gains nothing from more
    ref = {**model_label(bundle.card), "version": version, "sha256": _model_sha256(settings, schema, version)}
    return ServingModel(bundle, ref, stamp)


def _model_sha256(settings: Settings, schema: str, version: str) -> str:
    from churn_core.prediction.registry import VERSION_FILE, schema_dir

    info = json.loads((schema_dir(settings, schema) / version / VERSION_FILE).read_text(encoding="utf-8"))
    return str(info["model_sha256"])  # checked against the manifest by load_champion


def _stale(model: ServingModel | None, settings: Settings) -> bool:
    """True when no model is loaded or the champion pointer changed since it was loaded (one ``stat``)."""
    if model is None:
        return True
    from churn_core.prediction.registry import champion_stamp

    return champion_stamp(settings, model.ref.get("schema", "extended")) != model.stamp


def serving_model(app) -> ServingModel:
    """The app's serving model: the champion, loaded by :func:`load_model` on first use and again
    whenever the champion pointer changes (one load at a time).

    Raises
    ------
    HTTPException
        503 naming why no model could be loaded (the next request tries again).
    """
    settings = app.state.settings
    model = getattr(app.state, "model", None)
    if not _stale(model, settings):
        return model
    with app.state.model_lock:
        if _stale(app.state.model, settings):
            try:
                app.state.model = load_model(settings)
                app.state.model_error = None
            except (OSError, ValueError, TypeError) as exc:  # missing, changed or untrusted artifacts
                app.state.model, app.state.model_error = None, str(exc)
                raise HTTPException(503, f"no model can be loaded: {exc}", headers={"Retry-After": "60"}) from exc
    return app.state.model


def refresh_if_promoted(app) -> None:
    """Reload the serving model if one is loaded and the champion changed since (``/health``); never raises."""
    model = getattr(app.state, "model", None)
    if model is not None and _stale(model, app.state.settings):
        with contextlib.suppress(HTTPException):  # the reason is kept in app.state.model_error
            serving_model(app)


def get_model(request: Request) -> ServingModel:
    """Dependency: :func:`serving_model` of the running app."""
    return serving_model(request.app)


#: The header that carries the API key (shown in the OpenAPI document as the ``ApiKey`` scheme).
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", scheme_name="ApiKey", auto_error=False)


class KeyRateLimiter:
    """Per-key request limits (``limits``: moving window, in-memory storage of this process)."""

    def __init__(self, settings: Settings):
        from limits import parse
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self._default = parse(settings.api_rate_limit)
        self._per_key = {name: parse(value) for name, value in settings.api_key_rate_limits.items()}
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key_name: str) -> float | None:
        """Count one request of ``key_name``: None if allowed, else the seconds until one is allowed again."""
        item = self._per_key.get(key_name, self._default)
        if self._limiter.hit(item, "api-key", key_name):
            return None
        reset_at, _ = self._limiter.get_window_stats(item, "api-key", key_name)
        return max(1.0, reset_at - time.time())


def require_api_key(request: Request, key: Annotated[str | None, Security(API_KEY_HEADER)] = None) -> str:
    """Dependency of every ``/v1`` route: the name of the request's valid key, within its rate limit.

    Raises
    ------
    HTTPException
        401 when the key is missing, unknown or revoked (or no key is configured); 429 with
        ``Retry-After`` when the key's rate limit is used up.
    """
    settings: Settings = request.app.state.settings
    name = match_api_key(key, settings.api_keys, settings.api_revoked_keys)
    if name is None:
        why = "missing" if not key else "not valid"
        hint = "" if settings.api_keys else " (no API keys are configured: `churn-studio api-key NAME`)"
        raise HTTPException(401, f"API key {why}: send a valid key in the X-API-Key header{hint}",
                            headers={"WWW-Authenticate": "ApiKey"})  # fmt: skip
    wait = request.app.state.rate_limiter.hit(name)
    if wait is not None:
        raise HTTPException(429, f"rate limit of key {name!r} reached", headers={"Retry-After": str(math.ceil(wait))})
    return name


ModelDep = Annotated[ServingModel, Depends(get_model)]
ApiKeyDep = Annotated[str, Depends(require_api_key)]
