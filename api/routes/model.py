"""``GET /v1/model``: the serving model's identity, features and model card (an API key is needed)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ApiKeyDep, ModelDep
from api.routes.predict import ERROR_RESPONSES
from api.schemas import ModelCardResponse

router = APIRouter(prefix="/v1", tags=["model"])


@router.get("/model", response_model=ModelCardResponse, responses=ERROR_RESPONSES)
def model_card(_key: ApiKeyDep, served: ModelDep) -> dict:
    """Name, schema, version and SHA-256 of the model that scores, its features and its card."""
    return {"model": served.ref, "features": list(served.model.features), "card": served.bundle.card}
