"""Request and response bodies of the prediction API, generated from the declared schema.

:class:`Customer` has one field per raw column a file to score must hold in the extended schema
(:attr:`churn_core.data.schema.SchemaSpec.scoring_raw_columns`), named by its warehouse name
(``customer_id``, ``senior_citizen``, ``monthly_charges`` …), typed and bounded by the same
:class:`churn_core.data.schema.ColumnSpec` that validates uploads: a category takes exactly its
declared values, a number its declared range (a JSON number, finite; an integer column takes
no fraction; no ``true`` or ``"5"``), ``total_charges`` may be null (blank)
as in a file. Unknown fields are refused (a misspelled name is named, not ignored). The routes
then validate the customers with the upload validation itself
(:func:`churn_core.prediction.scoring.prepare_for_scoring`: cross-column rules, duplicate IDs).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, create_model

from churn_core.data.schema import COLUMNS, SCHEMAS

#: The schema whose customers the API scores.
API_SCHEMA = "extended"
#: Upper bound of ``api_max_batch`` (the OpenAPI ``maxItems`` of a batch).
MAX_BATCH_LIMIT = 1_000
_SPEC_BY_RAW = {c.raw: c for c in COLUMNS}
#: Raw column behind each request field (warehouse name → raw name), in model-input order.
RAW_NAME_OF_FIELD: dict[str, str] = {_SPEC_BY_RAW[raw].name: raw for raw in SCHEMAS[API_SCHEMA].scoring_raw_columns}
#: A real customer of the IBM sample (line 3 of the raw file), the documented example.
EXAMPLE_CUSTOMER: dict[str, Any] = {
    "customer_id": "3668-QPYBK", "gender": "Male", "senior_citizen": 0, "partner": "No", "dependents": "No",
    "tenure": 2, "phone_service": "Yes", "multiple_lines": "No", "internet_service": "DSL",
    "online_security": "Yes", "online_backup": "Yes", "device_protection": "No", "tech_support": "No",
    "streaming_tv": "No", "streaming_movies": "No", "contract": "Month-to-month", "paperless_billing": "Yes",
    "payment_method": "Mailed check", "monthly_charges": 53.85, "total_charges": 108.15, "age": 37,
    "under_30": "No", "married": "No", "referred_a_friend": "No", "number_of_referrals": 0, "offer": "None",
    "avg_monthly_long_distance_charges": 10.47, "avg_monthly_gb_download": 21, "streaming_music": "No",
    "unlimited_data": "Yes", "total_refunds": 0.0, "total_extra_data_charges": 0.0,
    "total_long_distance_charges": 20.94, "total_revenue": 129.09,
}  # fmt: skip


def _json_number(value: Any) -> Any:
    """Refuse what lax parsing would turn into a number: ``true``/``false`` and text (``"5"``)."""
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number")
    return value


def _field(raw: str) -> tuple[Any, Any]:
    """(type, default) of the request field of raw column ``raw``, from its :class:`ColumnSpec`."""
    spec = _SPEC_BY_RAW[raw]
    about = f"{spec.description} Raw column {spec.raw!r}" + (f"; unit {spec.unit}." if spec.unit else ".")
    if spec.kind == "id":
        kind: Any = Annotated[str, StringConstraints(min_length=1, max_length=64)]
        return kind, Field(description=about)
    if spec.kind in ("category", "text"):
        kind = Literal[spec.allowed] if spec.allowed else Annotated[str, StringConstraints(max_length=200)]
        return kind, Field(description=about)
    base = int if spec.kind == "int" else float
    bounds = {"ge": spec.ge, "le": spec.le}
    if base is float:
        bounds["allow_inf_nan"] = False
    kind = Annotated[base, Field(**bounds), BeforeValidator(_json_number)]  # 2.0 is an integer, 2.5 is not
    if spec.nullable:
        return kind | None, Field(default=None, description=about + " Null (blank) only when tenure is 0.")
    return kind, Field(description=about)


Customer: type[BaseModel] = create_model(
    "Customer",
    __config__=ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [EXAMPLE_CUSTOMER],
            # the upload rule "blank TotalCharges only where tenure is 0" (BLANK_TOTAL_CHARGES_CHECK), for clients
            "if": {"properties": {"tenure": {"exclusiveMinimum": 0}}, "required": ["tenure"]},
            "then": {"properties": {"total_charges": {"type": "number"}}, "required": ["total_charges"]},
        },
    ),
    __doc__="One customer in the extended IBM schema (warehouse names; see :mod:`api.schemas`).",
    **{name: _field(raw) for name, raw in RAW_NAME_OF_FIELD.items()},
)


class BatchRequest(BaseModel):
    """Customers to score at once (at most the settings' ``api_max_batch``, unique IDs)."""

    model_config = ConfigDict(extra="forbid")
    customers: Annotated[list[Customer], Field(min_length=1, max_length=MAX_BATCH_LIMIT)]  # type: ignore[valid-type]


class Action(BaseModel):
    """A recommended retention action: its code and its text in the requested language."""

    code: str
    text: str


class ModelRef(BaseModel):
    """Which model scored: name, schema, registry version (``YYYYMMDD-<8 hex>``) and SHA-256 of its file."""

    model_config = ConfigDict(populate_by_name=True)
    name: str
    schema_: str = Field(alias="schema")
    version: str
    sha256: str


class Prediction(BaseModel):
    """The score of one customer.

    ``drivers_up`` / ``drivers_down`` (features raising / lowering the risk most, by SHAP) are
    null unless explanations were asked for (``?explain=true``). ``actions``: with explanations,
    the actions tied to a feature that raises this customer's risk (as the app shows them);
    without, every action whose condition the customer meets.
    """

    customer_id: str
    churn_probability: float = Field(ge=0, le=1, description="Calibrated churn probability.")
    risk_score: int = Field(ge=0, le=100, description="Churn probability in percent, rounded.")
    risk_tier: Literal["low", "medium", "high", "very_high"]
    expected_profit_usd: float = Field(description="Expected profit of a retention offer (USD).")
    contact: bool = Field(description="Whether contacting pays (expected profit > 0).")
    drivers_up: list[str] | None = None
    drivers_down: list[str] | None = None
    actions: list[Action]
    explained: bool


class PredictionResponse(Prediction):
    """:class:`Prediction` of one customer and the model that made it."""

    model: ModelRef


class BatchResponse(BaseModel):
    """One :class:`Prediction` per customer, in request order, and the model that made them."""

    model: ModelRef
    predictions: list[Prediction]


class ModelCardResponse(BaseModel):
    """The serving model: which it is, its features, and its model card as ``churn-studio train`` wrote it."""

    model: ModelRef
    features: list[str]
    card: dict[str, Any]


class Health(BaseModel):
    """Liveness, and whether a (champion) model is loaded in this process."""

    status: Literal["ok"]
    champion_loaded: bool
    model: ModelRef | None = None
    model_error: str | None = None
