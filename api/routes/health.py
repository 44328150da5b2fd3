"""``GET /health``: liveness and whether a (champion) model is loaded; no key needed.

It loads no model for the first time; once one is loaded, a promotion since (the registry's champion
pointer changed) loads the new champion, so the version reported is the champion's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import refresh_if_promoted
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(request: Request) -> dict:
    """``status`` ok while the process serves; ``champion_loaded`` and the model's identity once loaded.

    ``model_error`` says that the last load failed (the prediction routes then answer 503 with the
    reason to key holders; this route is open, so it names no file).
    """
    refresh_if_promoted(request.app)  # a promotion since the last load: report the new champion
    model = request.app.state.model
    failed = request.app.state.model_error is not None
    error = "the model could not be loaded: see a /v1 answer or the API log" if failed else None
    return {"status": "ok", "champion_loaded": model is not None, "model": model.ref if model else None,
            "model_error": error}  # fmt: skip
