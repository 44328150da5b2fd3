"""Pandas reference implementations that the SQL and the pages are checked against."""

from __future__ import annotations

import pandas as pd

from churn_core.analytics.eda import EdaFilters


def reference_filter(df: pd.DataFrame, f: EdaFilters) -> pd.DataFrame:
    """Pandas version of EdaFilters.where(), written independently of the SQL."""
    mask = df["tenure"].between(f.tenure_min, f.tenure_max)
    if f.senior_only:
        mask &= df["is_senior"]
    for field, column in [
        ("age_groups", "age_group"), ("genders", "gender"), ("contracts", "contract"),
        ("internet_services", "internet_service"), ("payment_methods", "payment_method"),
        ("offers", "offer"),
    ]:  # fmt: skip
        if getattr(f, field):
            mask &= df[column].isin(getattr(f, field))
    if f.segments:
        mask &= df["segment"].isin(f.segments)
    return df[mask]
