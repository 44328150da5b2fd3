"""Helpers of the prediction-API tests: settings with a fresh key, and real customers as request bodies."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from api.keys import generate_api_key, hash_api_key
from api.schemas import RAW_NAME_OF_FIELD
from churn_core.config import RAW_CUSTOMERS_CSV, Settings
from churn_core.data.schema import COLUMN_BY_NAME


def api_settings(tmp_path: Path, **overrides) -> tuple[Settings, str]:
    """Settings for a throw-away API (DuckDB file under ``tmp_path``) and a valid key for them."""
    key = generate_api_key()
    values = {
        "warehouse_path": tmp_path / "warehouse.duckdb",
        "unsubscribe_secret": "api-test-signing-key-not-secret-" + "x" * 16,
        "api_keys": {"tests": hash_api_key(key)},
        "api_rate_limit": "100000/minute",
    } | overrides
    return Settings(_env_file=None, **values), key


def real_customers(ids: list[str] | None = None, n: int = 20) -> list[dict]:
    """Customers of the shipped IBM file as ``/v1/predict`` bodies (the first ``n``, or ``ids``).

    Numbers are read from the file's text exactly as an upload reads them; a blank
    ``TotalCharges`` becomes null.
    """
    raw = pd.read_csv(RAW_CUSTOMERS_CSV, dtype=str, keep_default_na=False)
    rows = raw[raw["customerID"].isin(ids)] if ids else raw.head(n)
    out = []
    for rec in rows.to_dict("records"):
        body = {}
        for name, col in RAW_NAME_OF_FIELD.items():
            kind, text = COLUMN_BY_NAME[name].kind, rec[col].strip()
            body[name] = (None if text == "" else int(text) if kind == "int" else float(text)) if kind in (
                "int", "float") else text  # fmt: skip
        out.append(body)
    return out


def raw_file_bytes(ids: list[str]) -> bytes:
    """The rows of ``ids`` from the shipped file, as a CSV upload (header and those lines, verbatim)."""
    lines = RAW_CUSTOMERS_CSV.read_bytes().decode("utf-8-sig").splitlines(keepends=True)
    keep = [line for line in lines[1:] if line.split(",", 1)[0] in set(ids)]
    return io.StringIO(lines[0] + "".join(keep)).getvalue().encode("utf-8")
