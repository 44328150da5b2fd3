"""Small customer extracts for snapshot tests, cut from the shipped IBM file at test time.

Rows are kept as text exactly as the shipped file has them (every cell a string), so an edited
copy is still a valid extended file unless a test breaks it on purpose.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from churn_core.config import RAW_CUSTOMERS_CSV


def shipped_rows(rows: int, start: int = 1800) -> pd.DataFrame:
    """``rows`` customers of the shipped file from data row ``start``, every cell as text (raw IBM names).

    The shipped file lists its 1,869 churners first: the default start gives a few churners, then stayers.
    """
    text = RAW_CUSTOMERS_CSV.read_text(encoding="utf-8-sig")
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return df.iloc[start : start + rows].reset_index(drop=True)


def write_rows(df: pd.DataFrame, path: Path) -> Path:
    """Write raw rows (text cells) as a UTF-8 CSV the loader accepts; returns ``path``."""
    df.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return path


def mark_churned(df: pd.DataFrame, customer_ids: list[str]) -> pd.DataFrame:
    """A copy where ``customer_ids`` churned: ``Churn`` Yes, ``churn_rate`` 1, status Churned (still valid)."""
    out = df.copy()
    hit = out["customerID"].isin(customer_ids)
    out.loc[hit, ["Churn", "churn_rate", "Customer Status"]] = ["Yes", "1", "Churned"]
    return out
