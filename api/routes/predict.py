"""Churn predictions: ``POST /v1/predict`` (one customer) and ``POST /v1/predict/batch`` (many).

Both take customers in the extended schema (:mod:`api.schemas`), validate them as an upload is
validated (:func:`churn_core.prediction.scoring.prepare_for_scoring`), and score them with the
serving model (:func:`api.deps.load_model`) through :mod:`churn_core.prediction.scoring`, the
same functions the app's scoring page and ``churn-studio score`` use, so a customer gets the same
probability everywhere. ``?explain=true`` adds SHAP drivers (slower); ``?lang=ko|en`` picks the
language of the actions' texts (default: the settings' language). Every invalid field, and
every customer breaking a cross-column rule or repeating an ID, is named in one 422 answer.

Every scored request is logged for model health (issue #14) through an in-process buffer
(:class:`churn_core.monitoring.runs.RunBuffer`): the request only appends its validated features
and probabilities; the buffer is written to ``scoring_runs`` as one run (source ``api``) when it
holds ``api_log_flush_rows`` customers or is ``api_log_flush_seconds`` old, and when the API stops
(this router's lifespan; mounted in the app, where sub-apps get no lifespan, at process exit).
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from api.deps import ApiKeyDep, ModelDep, ServingModel, SettingsDep
from api.schemas import (
    RAW_NAME_OF_FIELD,
    BatchRequest,
    BatchResponse,
    Customer,
    PredictionResponse,
)
from churn_core.config import Settings
from churn_core.data.loading import DataValidationError
from churn_core.data.schema import RENAME
from churn_core.i18n import t
from churn_core.prediction.business import Economics, recommend
from churn_core.prediction.scoring import codes, prepare_for_scoring, score_frame, score_one, score_prepared

_RUN_LOG_LOCK = threading.Lock()


@contextlib.asynccontextmanager
async def _flush_run_log(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan of this router: write the scoring-run buffer when the API stops."""
    yield
    buffer = getattr(app.state, "run_log", None)
    if buffer is not None:
        buffer.close()


router = APIRouter(prefix="/v1", tags=["predictions"], lifespan=_flush_run_log)


def run_log(app):
    """The app's scoring-run buffer (:class:`~churn_core.monitoring.runs.RunBuffer`), made on first use."""
    buffer = getattr(app.state, "run_log", None)
    if buffer is not None:
        return buffer
    with _RUN_LOG_LOCK:
        if getattr(app.state, "run_log", None) is None:
            from churn_core.data.warehouse import open_warehouse
            from churn_core.monitoring.runs import RunBuffer

            settings: Settings = app.state.settings

            @contextlib.contextmanager
            def opened() -> Iterator:
                if settings.warehouse_backend == "duckdb" and not app.state.in_app_process:
                    wh = open_warehouse(settings)  # standalone: hold the DuckDB file only for the write
                    try:
                        yield wh
                    finally:
                        wh.close()
                else:
                    yield app.state.warehouse

            app.state.run_log = RunBuffer(opened, "api", settings.api_log_flush_rows,
                                          settings.api_log_flush_seconds, settings=settings)  # fmt: skip
            atexit.register(app.state.run_log.close, 5.0)  # mounted in the app: no lifespan reaches here
    return app.state.run_log


def _log_run(app, served: ServingModel, prepared: pd.DataFrame, scored: pd.DataFrame) -> None:
    """Queue the request's features and probabilities for ``scoring_runs`` (no I/O in the request)."""
    sha, version = served.ref.get("sha256", ""), str(served.ref.get("version", ""))
    label = version if sha and version.endswith(sha[:8]) else (sha[:12] or version)
    run_log(app).add(label, prepared, scored["churn_probability"].to_numpy(dtype=float))


#: Error answers every ``/v1`` route may give besides 422 (documented in the OpenAPI document).
ERROR_RESPONSES: dict[int | str, dict] = {
    400: {"description": "Body that cannot be parsed"},
    401: {"description": "API key missing, unknown or revoked"},
    413: {"description": "Request body too large"},
    429: {"description": "Rate limit of the key reached (see Retry-After)"},
    503: {"description": "No model can be loaded (see Retry-After)"},
}
Explain = Annotated[bool, Query(description="Add SHAP drivers (slower).")]
Lang = Annotated[Literal["ko", "en"] | None, Query(description="Language of the actions' texts.")]


def _prepared(customers: list[BaseModel], where: tuple, single: bool = False) -> pd.DataFrame:
    """The customers validated as an upload and made model inputs (:func:`prepare_for_scoring`).

    Raises
    ------
    RequestValidationError
        One error per problem and customer, located at ``where + (index, field)`` (without the
        index for a ``single`` customer) (422).
    """
    raw = pd.DataFrame([{RAW_NAME_OF_FIELD[k]: v for k, v in c.model_dump().items()} for c in customers])
    try:
        return prepare_for_scoring(raw, "<request>", "extended")
    except DataValidationError as exc:
        errors = []
        for p in exc.problems.itertuples():
            name = RENAME.get(p.column, "total_charges" if p.code == "blank_total_charges" else p.column)
            for line in p.lines or [None]:
                index = () if line is None or single else (line - 2,)  # line 2 is the first customer
                errors.append({"type": p.code, "loc": (*where, *index, name), "msg": p.reason,
                               "input": None if line is None else raw.iloc[line - 2].get(p.column)})  # fmt: skip
        raise RequestValidationError(errors) from exc


def _actions(joined_or_codes: str | list[str], lang: str) -> list[dict[str, str]]:
    keys = codes(joined_or_codes) if isinstance(joined_or_codes, str) else joined_or_codes
    return [{"code": k, "text": t(f"action.{k}", lang)} for k in keys]


def _predictions(scored: pd.DataFrame, prepared: pd.DataFrame, explained: bool, lang: str) -> list[dict]:
    """Response rows of a :func:`score_frame` table (with drivers when ``explained``)."""
    out = []
    for row, features in zip(scored.to_dict("records"), prepared.to_dict("records"), strict=True):
        item = {k: row[k] for k in ("customer_id", "churn_probability", "risk_score", "risk_tier",
                                     "expected_profit_usd", "contact")}  # fmt: skip
        if explained:
            item |= {"drivers_up": codes(row["drivers_up"]), "drivers_down": codes(row["drivers_down"]),
                     "actions": _actions(row["actions"], lang)}  # fmt: skip
        else:
            item["actions"] = _actions(recommend(features), lang)
        out.append({**item, "explained": explained})
    return out


def _economics(settings: Settings) -> Economics:
    return Economics.from_settings(settings)


@router.post("/predict", response_model=PredictionResponse, responses=ERROR_RESPONSES)
def predict(
    request: Request,
    customer: Customer,  # type: ignore[valid-type]
    _key: ApiKeyDep,
    served: ModelDep,
    settings: SettingsDep,
    explain: Explain = False,
    lang: Lang = None,
) -> dict:
    """Score one customer: probability, risk score and tier, expected profit, actions, model version."""
    prepared = _prepared([customer], ("body",), single=True)
    economics = _economics(settings)
    if explain:  # the app's single-customer view: score_one with the model's explainer
        scored, _ = score_one(served.model, prepared.iloc[0], served.explainer(), economics)
        scored = scored.to_frame().T
    else:
        scored = score_frame(served.model, prepared, economics)
    _log_run(request.app, served, prepared, scored)
    return {**_predictions(scored, prepared, explain, lang or settings.default_language)[0], "model": served.ref}


@router.post("/predict/batch", response_model=BatchResponse, responses=ERROR_RESPONSES)
def predict_batch(
    http: Request,
    request: BatchRequest,
    _key: ApiKeyDep,
    served: ModelDep,
    settings: SettingsDep,
    explain: Explain = False,
    lang: Lang = None,
) -> dict:
    """Score up to ``api_max_batch`` customers (unique IDs) in request order."""
    if len(request.customers) > settings.api_max_batch:
        raise RequestValidationError([{
            "type": "too_long", "loc": ("body", "customers"), "input": None,
            "msg": f"at most {settings.api_max_batch} customers per request, got {len(request.customers)}",
        }])  # fmt: skip
    prepared = _prepared(request.customers, ("body", "customers"))
    model: ServingModel = served
    scored = score_prepared(model.model, prepared, _economics(settings), model.explainer() if explain else None)
    _log_run(http.app, model, prepared, scored)
    lang = lang or settings.default_language
    return {"model": model.ref, "predictions": _predictions(scored, prepared, explain, lang)}
