"""``GET /v1/model``: the serving model (the registry's champion): identity, features and model card (key needed)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ApiKeyDep, ModelDep
from api.routes.predict import ERROR_RESPONSES
from api.schemas import ModelCardResponse
from churn_core.prediction.retraining import sequence_model_note

router = APIRouter(prefix="/v1", tags=["model"])


@router.get("/model", response_model=ModelCardResponse, responses=ERROR_RESPONSES)
def model_card(_key: ApiKeyDep, served: ModelDep) -> dict:
    """Name, schema, registry version and SHA-256 of the champion that scores, its features and its card.

    The card is the one training wrote, with ``sequence_model`` (why the churn model uses one snapshot
    plus tenure-based survival rather than an LSTM on monthly histories, in Korean and English) added
    when the card predates it.
    """
    card = {**served.bundle.card}
    card.setdefault("sequence_model", sequence_model_note())
    return {"model": served.ref, "features": list(served.model.features), "card": card}
