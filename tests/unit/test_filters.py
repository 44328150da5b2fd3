"""EdaFilters reject impossible selections and turn into parameterised SQL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from churn_core.analytics import eda
from churn_core.analytics.eda import EdaFilters

pytestmark = pytest.mark.unit


def test_unknown_value_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown contract"):
        EdaFilters(contracts=("Monthly",))


def test_inverted_tenure_range_is_rejected() -> None:
    with pytest.raises(ValidationError, match="tenure_min"):
        EdaFilters(tenure_min=20, tenure_max=10)


def test_where_uses_parameters_not_values() -> None:
    where, params = EdaFilters(contracts=("One year",), senior_only=True, tenure_max=24).where()
    assert "One year" not in where
    assert "contract IN UNNEST(@contracts)" in where and "is_senior" in where
    assert params == {"tenure_min": 0, "tenure_max": 24, "contracts": ["One year"]}


def test_unknown_eda_column_is_rejected(warehouse) -> None:
    with pytest.raises(ValueError, match="not an EDA column"):
        eda.churn_by_category(warehouse, features=("churn_score",))
    with pytest.raises(ValueError, match="not an EDA column"):
        eda.correlations(warehouse, columns=("monthly_charges; DROP TABLE customers",))


def test_filters_round_trip_as_json() -> None:
    f = EdaFilters(age_groups=("65-69",), offers=("None",), tenure_min=3)
    assert EdaFilters.model_validate_json(f.model_dump_json()) == f
