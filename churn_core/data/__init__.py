"""Data and storage: the declared customer schema, validation, the warehouse and its tables.

Everything that reads, validates or stores customer data: the IBM Telco schema
(:mod:`~churn_core.data.schema`), validation with clear errors and derived columns
(:mod:`~churn_core.data.loading`), customer rows and bounded samples
(:mod:`~churn_core.data.customers`), the declared warehouse tables
(:mod:`~churn_core.data.tables`), the DuckDB / BigQuery warehouse
(:mod:`~churn_core.data.warehouse`), synthetic customers for load tests
(:mod:`~churn_core.data.synthetic`) and the size and row limits of uploaded files
(:mod:`~churn_core.data.uploads`). Nothing here fits a model.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["customers", "loading", "schema", "synthetic", "tables", "uploads", "warehouse"],
    submod_attrs={
        "schema": [
            "BLANK_TOTAL_CHARGES_CHECK",
            "CLASSIC_FEATURES",
            "COLUMNS",
            "COLUMN_BY_NAME",
            "LEAKAGE_COLUMNS",
            "LEAKAGE_COLUMNS_RAW",
            "RAW_SCHEMA",
            "RENAME",
            "TARGET",
        ],
        "loading": [
            "AGE_GROUPS",
            "DERIVED_COLUMNS",
            "DataValidationError",
            "LEVEL_ORDER",
            "SENIOR_AGE",
            "SENIOR_AGE_GROUPS",
            "SERVICE_COLUMNS",
            "TENURE_BANDS",
            "TENURE_MAX_MONTHS",
            "allowed_values",
            "clean_text_cells",
            "decode_csv",
            "file_sha256",
            "load_customers",
            "load_customers_bytes",
            "validate_with",
        ],
        "customers": ["customer_count", "customer_rows", "customer_sample"],
        "tables": [
            "CAMPAIGN_TEMPLATES",
            "CONSENT_EVENTS",
            "CONTACTS",
            "LEGACY_CONTACT_CONSENT_COLUMNS",
            "OUTBOX",
            "SCORES",
            "TABLES",
            "TableSpec",
        ],
        "warehouse": [
            "BigQueryWarehouse",
            "DuckDBWarehouse",
            "Warehouse",
            "WarehouseBusyError",
            "open_warehouse",
            "record_run",
        ],
        "synthetic": ["grow", "load_synthetic", "to_raw_csv"],
        "uploads": ["MB", "UploadLimitError", "check_upload", "count_csv_rows"],
    },
)
