"""Throw-away warehouses for tests: a fresh dataset on the local BigQuery emulator."""

from __future__ import annotations

import uuid
from pathlib import Path

from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.warehouse import BigQueryWarehouse
from churn_core.studio import STUDIO_ENRICH
from tests.helpers.bq_emulator import PROJECT


def new_bigquery_warehouse(endpoint: str, raw_csv: Path = RAW_CUSTOMERS_CSV) -> BigQueryWarehouse:
    """A BigQuery warehouse on a fresh dataset of the emulator (real client, anonymous credentials)."""
    return BigQueryWarehouse(
        PROJECT, f"t_{uuid.uuid4().hex[:10]}", raw_csv, api_endpoint=endpoint, enrich=STUDIO_ENRICH
    )
