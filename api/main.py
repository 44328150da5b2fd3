"""The API's app factory: ``create_app(settings)`` → a FastAPI app (served by uvicorn, see :mod:`api.__main__`).

What every response gets, whatever the route:

* bodies larger than :data:`MAX_BODY_BYTES` (a batch prediction: the settings'
  ``api_max_body_bytes``) are refused with 413 before any route reads them;
* security headers: a content security policy that allows no script, no framing
  (clickjacking) and forms posting only to this origin; ``Referrer-Policy: no-referrer``
  (an opt-out link's token never leaks to another site); ``Cache-Control: no-store``;
* uvicorn's access log shows ``token=[redacted]`` instead of a token;
* every log line of a request carries its ``run_id`` (a request id), ``route`` and the serving
  ``model_version`` (:func:`churn_core.logs.log_context`); an unexpected error is logged with them
  (``logger.exception``) and answered ``500 {"detail": "internal server error", "run_id": …}``.
  ``python -m api`` and ``churn-studio api`` log JSON lines to stderr and ``data/logs/api.log``
  (:func:`churn_core.logs.setup_logging`), uvicorn's lines included (:func:`churn_core.logs.uvicorn_log_config`).

No interactive documentation (``/docs`` would load Swagger UI from a CDN; nothing here is
for browsing); the OpenAPI document is served at ``/openapi.json``. ``GET /healthz`` answers
``{"status": "ok"}`` without touching the warehouse; ``GET /health`` also says whether a model
is loaded. The prediction routes (``/v1/…``, :mod:`api.routes.predict`, :mod:`api.routes.model`)
need an API key (:func:`api.deps.require_api_key`).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import KeyRateLimiter, serving_model
from api.routes import health, model, optout, predict
from churn_core.config import Settings, get_settings
from churn_core.data.warehouse import open_warehouse
from churn_core.logs import log_context, new_run_id, redact
from churn_core.outreach import unsubscribe
from churn_core.studio import shared_warehouse

#: Largest request body accepted (a one-click POST is about 150 bytes).
MAX_BODY_BYTES = 16_384
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"]+")
_log = logging.getLogger(__name__)


class _BodyTooLarge(Exception):
    pass


class LimitAndHeaders:
    """ASGI middleware: refuse bodies over ``max_bytes`` (413) and add :data:`SECURITY_HEADERS`."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES, larger: dict[str, int] | None = None):
        self.app, self.max_bytes, self.larger = app, max_bytes, larger or {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = next((n for path, n in self.larger.items() if scope["path"].endswith(path)), self.max_bytes)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > max_bytes:
            await PlainTextResponse("request body too large", 413, headers=SECURITY_HEADERS)(scope, receive, send)
            return
        received, started = 0, False

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > max_bytes:  # a chunked body without Content-Length
                raise _BodyTooLarge
            return message

        async def send_with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLarge:
            if not started:
                await PlainTextResponse("request body too large", 413, headers=SECURITY_HEADERS)(scope, receive, send)


class RedactTokens(logging.Filter):
    """Redacts uvicorn's access-log arguments: every ``token=`` value, keys, e-mail addresses, phones.

    Kept on the ``uvicorn.access`` logger itself, so that the lines are redacted even where
    :func:`churn_core.logs.setup_logging` was not called (uvicorn's own handlers, tests).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(_TOKEN_IN_URL.sub(r"\1[redacted]", a)) if isinstance(a, str) else a
                                for a in record.args)  # fmt: skip
        return True


def _model_version(scope) -> str | None:
    """The version of the model the app serves now (None before the first load)."""
    model = getattr(getattr(scope.get("app"), "state", None), "model", None)
    return (getattr(model, "ref", None) or {}).get("version")


class RequestContext:
    """ASGI middleware: a request's log lines carry ``run_id``, ``route`` and ``model_version``; errors → 500.

    An exception no route handled is logged once, with its traceback (redacted) and that
    context, and answered ``500 {"detail": "internal server error", "run_id": …}`` (the id to
    find the line); the server keeps serving.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        run_id, started = new_run_id(), False

        async def tracking_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        with log_context(run_id=run_id, route=scope["path"], model_version=_model_version(scope)):
            try:
                await self.app(scope, receive, tracking_send)
            except Exception:
                route = getattr(scope.get("route"), "path", None) or scope["path"]  # the template, not the values
                _log.exception("unhandled error in %s %s", scope["method"], route,
                               extra={"route": route, "model_version": _model_version(scope)})  # fmt: skip
                if started:  # nothing can be answered any more
                    raise
                body = {"detail": "internal server error", "run_id": run_id}
                await JSONResponse(body, status_code=500)(scope, receive, send)


def _json_safe(value):
    """``value`` with every non-finite float as text (an echoed ``NaN`` input must not break the answer)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming every invalid field (``loc``), why (``msg``, ``type``) and the value given (``input``)."""
    return JSONResponse({"detail": _json_safe(jsonable_encoder(exc.errors()))}, status_code=422)


def create_app(settings: Settings | None = None, in_app_process: bool = False) -> FastAPI:
    """The API app for ``settings`` (default: the process settings).

    Parameters
    ----------
    settings : Settings, optional
        Warehouse, signing key (``unsubscribe_secret`` or its generated file), sender
        details shown on the pages (``opt_out_phone``, ``privacy_url``).
    in_app_process : bool
        Mounted in the Streamlit process (``app.py``, under ``/api``): routes use the
        process's one warehouse (:func:`churn_core.studio.shared_warehouse`), the same
        DuckDB connection as the app. Standalone (``python -m api``) they open it per request.

    Returns
    -------
    fastapi.FastAPI
        Routes: ``GET /healthz``, ``GET /health``; ``GET`` and ``POST /optout``
        (:mod:`api.routes.optout`); ``POST /v1/predict``, ``POST /v1/predict/batch``,
        ``GET /v1/model``; ``GET /openapi.json``. Standalone, the serving model is loaded at
        start-up (a failure is reported by ``/health`` and as 503s); mounted, on first use.

    Raises
    ------
    ValueError
        If the signing key is unusable (too short) or BigQuery is selected without a project.
    OSError
        If no signing key is configured and the key file can be neither read nor created.
    """
    settings = settings or get_settings()
    unsubscribe.secret(settings)  # fail at start, not at the first click (and create the key file once)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not in_app_process:  # preload: the first prediction is not slow, /health says at once
            try:
                serving_model(app)
            except Exception:  # kept in app.state.model_error, answered as 503
                _log.exception("no model loaded at start-up")
        yield

    app = FastAPI(
        title="Multi-Telecom retention studio API", version="1", docs_url=None, redoc_url=None,
        openapi_url="/openapi.json", lifespan=lifespan,
    )  # fmt: skip
    app.state.settings = settings
    app.state.in_app_process = in_app_process
    app.state.model, app.state.model_error, app.state.model_lock = None, None, threading.Lock()
    app.state.rate_limiter = KeyRateLimiter(settings)
    if in_app_process:
        app.state.warehouse = shared_warehouse(settings)
    else:
        app.state.warehouse = None if settings.warehouse_backend == "duckdb" else open_warehouse(settings)
    app.add_exception_handler(RequestValidationError, invalid_request)
    build_openapi = app.openapi

    def openapi() -> dict:  # the document states this deployment's batch limit
        spec = build_openapi()
        batch = spec.get("components", {}).get("schemas", {}).get("BatchRequest")
        if batch:
            batch["properties"]["customers"]["maxItems"] = settings.api_max_batch
        return spec

    app.openapi = openapi
    app.add_middleware(RequestContext)  # inside LimitAndHeaders: a 500 gets the security headers too
    app.add_middleware(
        LimitAndHeaders, max_bytes=MAX_BODY_BYTES, larger={"/v1/predict/batch": settings.api_max_body_bytes}
    )
    app.include_router(optout.router)
    app.include_router(health.router)
    app.include_router(predict.router)
    app.include_router(model.router)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
    return app
