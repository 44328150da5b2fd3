"""Synthetic customers grown from the real data, for load tests and benchmarks only.

Rows are bootstrapped (sampled with replacement) from the validated customers, so the
joint distribution of categories is kept; numeric money and usage fields get a small
multiplicative jitter (default ±5 %), and every row gets a fresh ``SYN-…`` customer ID
so nobody can mistake a synthetic customer for a real one. Derived totals are recomputed
from tenure × monthly charges where the IBM data ties them together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from churn_core.data.schema import COLUMN_BY_NAME, RENAME
from churn_core.data.warehouse import SCHEMA_VERSION, Warehouse

_JITTER = ("monthly_charges", "avg_monthly_long_distance_charges", "avg_monthly_gb_download", "total_refunds")


def grow(customers: pd.DataFrame, n: int, seed: int = 0, jitter: float = 0.05, start: int = 0) -> pd.DataFrame:
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
    start : int
        Number of the first generated ID (chunks of one large table use disjoint ranges).

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
    out["customer_id"] = [f"SYN-{i:08d}" for i in range(start, start + n)]
    return out


def load_synthetic(
    wh: Warehouse,
    customers: pd.DataFrame,
    n: int,
    seed: int = 0,
    chunk_rows: int = 500_000,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Fill ``wh``'s ``customers`` table with ``n`` synthetic customers, chunk by chunk.

    Memory stays bounded by ``chunk_rows``. The warehouse metadata is marked ``pinned``
    so that it is never rebuilt from the raw file (benchmarks and load tests only).

    Parameters
    ----------
    customers : pandas.DataFrame
        Real validated customers with ``segment`` (the warehouse's own table).
    """
    done = 0
    for i, start in enumerate(range(0, n, chunk_rows)):
        size = min(chunk_rows, n - start)
        chunk = grow(customers, size, seed=seed + i, start=start)
        (wh.replace_table if i == 0 else wh.append_rows)("customers", chunk)
        done += size
        if progress is not None:
            progress(done, n)
    meta = {
        "raw_sha256": "synthetic", "raw_file": f"synthetic from {wh.raw_csv.name}", "schema_version": SCHEMA_VERSION,
        "n_customers": str(n), "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "pinned": "true",
    }  # fmt: skip
    wh.replace_table("_meta", pd.DataFrame(list(meta.items()), columns=["key", "value"]))
    wh.ensure_tables()


def to_raw_csv(customers: pd.DataFrame) -> pd.DataFrame:
    """Rename warehouse columns back to the raw IBM names (for writing a CSV to upload)."""
    inverse = {v: k for k, v in RENAME.items()}
    raw = customers[[c for c in customers.columns if c in inverse]].rename(columns=inverse)
    return raw
