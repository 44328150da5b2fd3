"""Data and storage: the declared customer schema, validation, the warehouse and its tables.

Everything that reads, validates or stores customer data: the IBM Telco schema
(:mod:`~churn_core.data.schema`), validation with clear errors and derived columns
(:mod:`~churn_core.data.loading`), reading files as people have them (CSV in any usual encoding
and separator, Excel; headers matched with aliases: :mod:`~churn_core.data.reading`), customer rows and bounded samples
(:mod:`~churn_core.data.customers`), the declared warehouse tables
(:mod:`~churn_core.data.tables`), the DuckDB / BigQuery warehouse
(:mod:`~churn_core.data.warehouse`), synthetic customers for load tests
(:mod:`~churn_core.data.synthetic`) and the size and row limits of uploaded files
(:mod:`~churn_core.data.uploads`). Nothing here fits a model.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["customers", "ingest", "loading", "reading", "schema", "synthetic", "tables", "uploads", "warehouse"],
    submod_attrs={
        "schema": [
            "BLANK_TOTAL_CHARGES_CHECK",
            "CLASSIC_FEATURES",
            "COLUMNS",
            "COLUMN_ALIASES",
            "COLUMN_BY_NAME",
            "CONTACT_COLUMN_ALIASES",
            "EXTENDED_FEATURES",
            "LEAKAGE_COLUMNS",
            "LEAKAGE_COLUMNS_RAW",
            "NOT_FEATURES",
            "RAW_COLUMNS",
            "RAW_SCHEMA",
            "RENAME",
            "SCHEMAS",
            "TARGET",
            "detect_schema",
            "missing_for",
        ],
        "loading": [
            "AGE_GROUPS",
            "DERIVED_COLUMNS",
            "DataValidationError",
            "LEVEL_ORDER",
            "PROBLEM_CODES",
            "SENIOR_AGE",
            "SENIOR_AGE_GROUPS",
            "SERVICE_COLUMNS",
            "TENURE_BANDS",
            "TENURE_MAX_MONTHS",
            "allowed_values",
            "clean_text_cells",
            "decode_csv",
            "file_sha256",
            "load_any_customers",
            "load_customers",
            "load_customers_bytes",
            "normalise_values",
            "problem_code",
            "validate_with",
        ],
        "customers": ["customer_columns", "customer_count", "customer_rows", "customer_sample"],
        "reading": [
            "MAX_EXCEL_COLUMNS",
            "MAX_MAPPING_HEADERS",
            "MAX_MAPPING_HEADER_CHARS",
            "SEPARATOR_NAMES",
            "ColumnMatch",
            "ReadResult",
            "RowCheck",
            "apply_columns",
            "can_save_mapping",
            "canonical_columns",
            "is_excel",
            "match_columns",
            "partition_rows",
            "read_table",
            "read_table_chunks",
            "save_mapping",
            "saved_mapping",
            "xlsx_dimension",
        ],
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
        "ingest": ["IngestResult", "ingest_file", "ingest_meta"],
        "uploads": ["MB", "UploadLimitError", "check_upload", "count_csv_rows"],
    },
)
