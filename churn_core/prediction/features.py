"""Model features: which columns a churn model may see, and how they are encoded.

Features are the extended IBM fields minus the declared leakage columns
(:data:`churn_core.data.schema.LEAKAGE_COLUMNS`), minus identifiers, constants and
Californian geography (city, ZIP, coordinates: meaningless for the Korean market the
models serve). Encoding happens inside the model pipeline, so cross-validation folds
never see statistics of their test part.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, RobustScaler, StandardScaler

from churn_core.data.schema import (
    COLUMN_BY_NAME,
    EXTENDED_FEATURES,
    LEAKAGE_COLUMNS,
    LEAKAGE_COLUMNS_RAW,
    NOT_FEATURES,  # noqa: F401 - re-exported: declared with the schemas in churn_core.data.schema
    SCHEMAS,
)

#: Extended feature set (warehouse names), in a fixed order (declared in :data:`churn_core.data.schema.SCHEMAS`).
MODEL_FEATURES: tuple[str, ...] = EXTENDED_FEATURES

#: Feature sets a model can be trained on, one per schema of :data:`churn_core.data.schema.SCHEMAS`.
FEATURE_SETS: dict[str, tuple[str, ...]] = {name: spec.features for name, spec in SCHEMAS.items()}

SCALERS = {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}


class LeakageError(ValueError):
    """A leakage column would reach a churn model."""


def check_no_leakage(columns: Iterable[str]) -> None:
    """Raise :class:`LeakageError` if any of ``columns`` is a declared leakage column.

    Accepts warehouse names and raw names (``"Churn Score"`` as well as ``churn_score``).
    """
    leaked = sorted(set(columns) & (set(LEAKAGE_COLUMNS) | set(LEAKAGE_COLUMNS_RAW)))
    if leaked:
        raise LeakageError(f"leakage columns must never reach a churn model: {leaked}")


def split_kinds(features: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split feature names into (categorical, numeric) by their declared kind."""
    categorical, numeric = [], []
    for f in features:
        kind = "int" if f == "n_services" else COLUMN_BY_NAME[f].kind
        (categorical if kind == "category" else numeric).append(f)
    return categorical, numeric


def feature_frame(customers: pd.DataFrame, features: Iterable[str] = MODEL_FEATURES) -> pd.DataFrame:
    """Select and type the model features of a customer table.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers with warehouse column names (see :mod:`churn_core.data.loading`).
    features : iterable of str
        Feature names; checked against the leakage list.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_features)
        Categorical features as ``str``, numeric features as ``float64``.

    Raises
    ------
    LeakageError
        If a leakage column is requested.
    KeyError
        If a feature is missing from ``customers``.
    """
    features = list(features)
    check_no_leakage(features)
    categorical, numeric = split_kinds(features)
    out = customers[features].copy()
    out[categorical] = out[categorical].astype(str)
    out[numeric] = out[numeric].astype("float64")
    return out


def make_preprocessor(features: Iterable[str], scaler: str | None = "standard") -> ColumnTransformer:
    """One-hot encode categorical features and (optionally) scale numeric ones.

    Parameters
    ----------
    features : iterable of str
        Feature names in column order of the input frame.
    scaler : {"standard", "robust", "minmax"} or None
        Scaler of numeric features; None passes them through (tree models).
    """
    categorical, numeric = split_kinds(features)
    num = SCALERS[scaler]() if scaler else "passthrough"
    return ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
            ("num", num, numeric),
        ],
        verbose_feature_names_out=False,
    )
