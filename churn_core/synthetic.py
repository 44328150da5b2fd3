"""Synthetic customers grown from the real data, for load tests and benchmarks only.

Rows are bootstrapped (sampled with replacement) from the validated customers, so the
joint distribution of categories is kept; numeric money and usage fields get a small
multiplicative jitter (default ±5 %), and every row gets a fresh ``SYN-…`` customer ID
so nobody can mistake a synthetic customer for a real one. Derived totals are recomputed
from tenure × monthly charges where the IBM data ties them together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_core.schema import COLUMN_BY_NAME, RENAME

_JITTER = ("monthly_charges", "avg_monthly_long_distance_charges", "avg_monthly_gb_download", "total_refunds")


def grow(customers: pd.DataFrame, n: int, seed: int = 0, jitter: float = 0.05) -> pd.DataFrame:
    """Bootstrap ``n`` synthetic customers from validated ``customers``.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_real, n_columns)
        Validated customers, warehouse column names.
    n : int
        Rows to generate.
    seed : int
        Seed of the generator (same seed, same rows).
    jitter : float
        Relative half-width of the uniform noise applied to money/usage fields.

    Returns
    -------
    pandas.DataFrame of shape (n, n_columns)
        Same columns and dtypes; ``customer_id`` is ``SYN-0000000`` style.
    """
    rng = np.random.default_rng(seed)
    out = customers.iloc[rng.integers(0, len(customers), n)].reset_index(drop=True).copy()
    for col in _JITTER:
        noise = rng.uniform(1 - jitter, 1 + jitter, n)
        values = out[col].to_numpy(dtype=float) * noise
        out[col] = np.round(values, 2) if COLUMN_BY_NAME[col].kind == "float" else np.rint(values).astype("int64")
    out["total_charges"] = np.round(out["tenure"] * out["monthly_charges"], 2)
    out["total_long_distance_charges"] = np.round(out["tenure"] * out["avg_monthly_long_distance_charges"], 2)
    out["total_revenue"] = np.round(
        out["total_charges"]
        + out["total_extra_data_charges"]
        + out["total_long_distance_charges"]
        - out["total_refunds"],
        2,
    )
    out["customer_id"] = [f"SYN-{i:07d}" for i in range(n)]
    return out


def to_raw_csv(customers: pd.DataFrame) -> pd.DataFrame:
    """Rename warehouse columns back to the raw IBM names (for writing a CSV to upload)."""
    inverse = {v: k for k, v in RENAME.items()}
    raw = customers[[c for c in customers.columns if c in inverse]].rename(columns=inverse)
    return raw
