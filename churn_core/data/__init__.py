"""Data and storage: the declared customer schema, validation, the warehouse and its tables.

Everything that reads, validates or stores customer data: the IBM Telco schema
(:mod:`~churn_core.data.schema`), validation with clear errors and derived columns
(:mod:`~churn_core.data.loading`), customer rows and bounded samples
(:mod:`~churn_core.data.customers`), the declared warehouse tables
(:mod:`~churn_core.data.tables`), the DuckDB / BigQuery warehouse
(:mod:`~churn_core.data.warehouse`) and synthetic customers for load tests
(:mod:`~churn_core.data.synthetic`). Nothing here fits a model.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["customers", "loading", "schema", "synthetic", "tables", "warehouse"],
    submod_attrs={
        "schema": ["COLUMNS", "COLUMN_BY_NAME", "LEAKAGE_COLUMNS", "RAW_SCHEMA", "TARGET"],
        "loading": [
            "DataValidationError",
            "load_customers",
            "load_customers_bytes",
            "file_sha256",
            "AGE_GROUPS",
            "TENURE_BANDS",
            "SENIOR_AGE",
            "DERIVED_COLUMNS",
        ],
        "customers": ["customer_rows", "customer_count", "customer_sample"],
        "tables": ["TABLES", "TableSpec"],
        "warehouse": [
            "Warehouse",
            "DuckDBWarehouse",
            "BigQueryWarehouse",
            "WarehouseBusyError",
            "open_warehouse",
            "record_run",
        ],
        "synthetic": ["grow", "load_synthetic", "to_raw_csv"],
    },
)
