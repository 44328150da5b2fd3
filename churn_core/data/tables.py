"""Declared tables of the warehouse, with BigQuery column types, shared by every backend.

``customers`` is built from the raw IBM file (its columns come from
:mod:`churn_core.data.schema` and the derived columns of :mod:`churn_core.data.loading`); the other
tables are created empty and filled by the app and the commands:

* ``scores``      churn probability, risk tier and CLV per customer and scoring run
* ``model_runs``  one row per training or batch-scoring run
* ``contacts``    the outreach contact book: names, addresses, preferred channel (no consent)
* ``locations``   KT stores and digital-learning centres with coordinates
* ``outbox``      the outreach ledger: one row per (campaign, customer, channel)
* ``consent_events``      append-only marketing-consent history (grants and withdrawals)
* ``campaign_templates``  the message text of each campaign, stored when it is planned
* ``snapshots``   one row per dated customer snapshot (``customers_YYYYMMDD`` tables)
* ``outcomes``    churn observed at the next snapshot, per customer of the earlier one
* ``scoring_runs``  one row per scoring run: model version, rows, feature and score summaries (JSON)

A table may declare a ``key`` (columns that identify a row): DuckDB enforces it with a
unique index; BigQuery has no enforced constraints, so writers use ``MERGE`` on the key
(:meth:`churn_core.data.warehouse.Warehouse.merge_rows`).

Types are BigQuery standard SQL names; :data:`DUCKDB_TYPES` maps them to DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: BigQuery type -> DuckDB type.
DUCKDB_TYPES: dict[str, str] = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATE": "DATE",
}
#: DuckDB type (as ``information_schema`` spells it) -> BigQuery type.
FROM_DUCKDB: dict[str, str] = {
    "VARCHAR": "STRING",
    "BIGINT": "INT64",
    "INTEGER": "INT64",
    "DOUBLE": "FLOAT64",
    "BOOLEAN": "BOOL",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "DATE": "DATE",
}


@dataclass(frozen=True)
class TableSpec:
    """A declared table: name, ``(column, BigQuery type)`` pairs, what it is for, and its key.

    ``key`` names the columns that identify one row (empty: none); see the module docstring.
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    description: str
    key: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """Column names in declared order."""
        return [c for c, _ in self.columns]

    def conform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return ``df`` with exactly the declared columns, in order, cast to their types.

        Raises
        ------
        ValueError
            If ``df`` lacks declared columns or has undeclared ones (named in the message).
        """
        missing = [c for c in self.names if c not in df.columns]
        extra = [c for c in df.columns if c not in self.names]
        if missing or extra:
            raise ValueError(f"table {self.name!r}: missing columns {missing}, undeclared columns {extra}")
        out = pd.DataFrame(index=df.index)
        for col, kind in self.columns:
            s = df[col]
            if kind == "STRING":
                out[col] = s.astype("string")
            elif kind == "INT64":
                out[col] = pd.to_numeric(s).astype("Int64")
            elif kind == "FLOAT64":
                out[col] = pd.to_numeric(s).astype("float64")
            elif kind == "BOOL":
                out[col] = s.astype("boolean")
            elif kind == "TIMESTAMP":
                out[col] = pd.to_datetime(s, utc=True).astype("datetime64[us, UTC]")
            elif kind == "DATE":
                out[col] = pd.to_datetime(s).dt.date.astype("object")
            else:  # pragma: no cover - declared types are fixed
                raise ValueError(f"unknown type {kind}")
        return out.reset_index(drop=True)


def bigquery_type(dtype) -> str:
    """BigQuery type of a pandas dtype (for tables built from a DataFrame, like ``customers``)."""
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOL"
    if pd.api.types.is_integer_dtype(dtype):
        return "INT64"
    if pd.api.types.is_float_dtype(dtype):
        return "FLOAT64"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "TIMESTAMP"
    return "STRING"


SCORES = TableSpec(
    "scores",
    (
        ("run_id", "STRING"),
        ("customer_id", "STRING"),
        ("churn_probability", "FLOAT64"),
        ("risk_score", "FLOAT64"),
        ("risk_tier", "STRING"),
        ("expected_profit_usd", "FLOAT64"),
        ("clv_usd", "FLOAT64"),
        ("revenue_at_risk_12m_usd", "FLOAT64"),
        ("scored_at", "TIMESTAMP"),
    ),
    "Batch scores per customer and run (probability 0-1, risk score 0-100, CLV in USD).",
)
MODEL_RUNS = TableSpec(
    "model_runs",
    (
        ("run_id", "STRING"),
        ("kind", "STRING"),
        ("model_sha256", "STRING"),
        ("backend", "STRING"),
        ("started_at", "TIMESTAMP"),
        ("finished_at", "TIMESTAMP"),
        ("n_rows", "INT64"),
        ("status", "STRING"),
        ("details", "STRING"),
    ),
    "One row per batch-scoring run (status running / done / failed, details as JSON).",
)
CONTACTS = TableSpec(
    "contacts",
    (
        ("customer_id", "STRING"),
        ("name", "STRING"),
        ("phone_e164", "STRING"),
        ("email", "STRING"),
        ("preferred_channel", "STRING"),
        ("gu", "STRING"),
        ("is_demo", "BOOL"),
    ),
    "Outreach contact book keyed by customer_id: names and addresses; consent lives in consent_events.",
    key=("customer_id",),
)
#: Consent columns the contact book had before the consent history (migrated to events on first use).
LEGACY_CONTACT_CONSENT_COLUMNS: tuple[str, ...] = (
    "sms_consent", "sms_consent_date", "email_consent", "email_consent_date", "night_consent", "opted_out",
    "opted_out_date",
)  # fmt: skip
LOCATIONS = TableSpec(
    "locations",
    (
        ("source", "STRING"),
        ("place_type", "STRING"),
        ("name", "STRING"),
        ("address", "STRING"),
        ("phone", "STRING"),
        ("detail_url", "STRING"),
        ("gu", "STRING"),
        ("dong", "STRING"),
        ("lat", "FLOAT64"),
        ("lon", "FLOAT64"),
        ("geocode_precision", "STRING"),
        ("geocoder", "STRING"),
        ("scraped_at", "STRING"),
    ),
    "KT stores, competitor stores and digital-learning centres in Seoul (WGS84 degrees).",
)
OUTBOX = TableSpec(
    "outbox",
    (
        ("campaign_id", "STRING"),
        ("customer_id", "STRING"),
        ("channel", "STRING"),
        ("is_control", "BOOL"),
        ("status", "STRING"),
        ("reason", "STRING"),
        ("error_code", "STRING"),
        ("template_id", "STRING"),
        ("recipient", "STRING"),
        ("triggered_by", "STRING"),
        ("attempts", "INT64"),
        ("provider_id", "STRING"),
        ("created_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
        ("scheduled_for", "TIMESTAMP"),
    ),
    "Outreach ledger: at most one row per (campaign_id, customer_id, channel).",
    key=("campaign_id", "customer_id", "channel"),
)

CONSENT_EVENTS = TableSpec(
    "consent_events",
    (
        ("customer_id", "STRING"),
        ("channel", "STRING"),
        ("event", "STRING"),
        ("occurred_at", "TIMESTAMP"),
        ("source", "STRING"),
        ("evidence", "STRING"),
        ("recorded_by", "STRING"),
        ("recorded_at", "TIMESTAMP"),
    ),
    "Append-only consent history (정보통신망법 §50): one row per grant or withdrawal, never updated.",
)
CAMPAIGN_TEMPLATES = TableSpec(
    "campaign_templates",
    (
        ("campaign_id", "STRING"),
        ("channel", "STRING"),
        ("template_id", "STRING"),
        ("subject", "STRING"),
        ("body", "STRING"),
        ("stored_at", "TIMESTAMP"),
    ),
    "The text of every template a campaign uses, stored when it is planned (a resumed campaign needs no file).",
    key=("campaign_id", "channel", "template_id"),
)

#: One row per scoring run (``churn-studio score``, the app's batch upload, the API): issue #14 monitoring.
#: ``feature_summary`` and ``score_summary`` are JSON (:mod:`churn_core.monitoring.runs`); no customer IDs.
SCORING_RUNS = TableSpec(
    "scoring_runs",
    (
        ("run_id", "STRING"),
        ("source", "STRING"),
        ("model_version", "STRING"),
        ("snapshot_date", "DATE"),
        ("scored_at", "TIMESTAMP"),
        ("n_rows", "INT64"),
        ("feature_summary", "STRING"),
        ("score_summary", "STRING"),
    ),
    "Scoring runs (source command / app / api) with per-feature and score summaries as JSON, for model health.",
    key=("run_id",),
)

# -- customer snapshots (issue #14, churn_core.data.snapshots) ---------------------------------
SNAPSHOTS = TableSpec(
    "snapshots",
    (
        ("snapshot_date", "DATE"),
        ("table_name", "STRING"),
        ("raw_file", "STRING"),
        ("raw_sha256", "STRING"),
        ("customer_schema", "STRING"),
        ("n_customers", "INT64"),
        ("is_synthetic", "BOOL"),
        ("drift", "STRING"),
        ("ingested_at", "TIMESTAMP"),
    ),
    "One row per dated customer snapshot: its table (customers_YYYYMMDD), source file and SHA-256.",
    key=("snapshot_date",),
)
OUTCOMES = TableSpec(
    "outcomes",
    (
        ("snapshot_date", "DATE"),
        ("customer_id", "STRING"),
        ("churned", "BOOL"),
        ("observed_date", "DATE"),
        ("rule", "STRING"),
        ("recorded_at", "TIMESTAMP"),
    ),
    "Observed churn of each active customer of a snapshot, seen at the next snapshot (OUTCOME_RULE).",
    key=("snapshot_date", "customer_id"),
)

#: Every declared table other than ``customers``, by name.
TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (SCORES, MODEL_RUNS, CONTACTS, LOCATIONS, OUTBOX, CONSENT_EVENTS, CAMPAIGN_TEMPLATES, SCORING_RUNS)
}
TABLES |= {t.name: t for t in (SNAPSHOTS, OUTCOMES)}  # customer snapshots (issue #14)

# -- precomputed page analytics (issue #17, churn_core.analytics.precomputed) ---------------------
ANALYTICS_RESULTS = TableSpec(
    "analytics_results",
    (
        ("name", "STRING"),
        ("build_key", "STRING"),
        ("payload", "STRING"),
        ("computed_at", "TIMESTAMP"),
    ),
    "Survival evaluation, Kaplan-Meier curves, segment choice, factor loadings, PCA map: JSON per result "
    "name, for the build named by build_key (written after every build; pages read them, never fit).",
    key=("name",),
)
ANALYTICS_CUSTOMERS = TableSpec(
    "analytics_customers",
    (
        ("customer_id", "STRING"),
        ("build_key", "STRING"),
        ("tenure", "FLOAT64"),
        ("log_lambda", "FLOAT64"),
        ("rho", "FLOAT64"),
        ("expected_months", "FLOAT64"),
        ("clv_usd", "FLOAT64"),
        ("revenue_at_risk_12m_usd", "FLOAT64"),
        ("senior_segment", "INT64"),
        ("churn_probability", "FLOAT64"),
        ("model_sha256", "STRING"),
    ),
    "Per customer of the model sample: Weibull AFT curve (tenure months, log scale, shape), CLV at the "
    "default assumptions (months, USD), the senior segment (NULL if not a senior) and the churn model's "
    "probability (model_sha256), for build_key.",
    key=("customer_id",),
)
TABLES |= {t.name: t for t in (ANALYTICS_RESULTS, ANALYTICS_CUSTOMERS)}  # precomputed analytics (issue #17)

# -- campaign outcomes (issue #15, churn_core.outreach.outcomes) -----------------------------------
CAMPAIGN_OUTCOMES = TableSpec(
    "campaign_outcomes",
    (
        ("campaign_id", "STRING"),
        ("customer_id", "STRING"),
        ("churned", "BOOL"),
        ("observed_at", "DATE"),
        ("source", "STRING"),
        ("outcome_id", "STRING"),
        ("assumption", "STRING"),
        ("recorded_at", "TIMESTAMP"),
    ),
    "Churn after a campaign per (campaign, customer): source snapshot / import / simulated (outcome_id "
    "SYN-…, assumption = the treatment-effect assumption's name); simulated rows are never real outcomes.",
    key=("campaign_id", "customer_id"),
)
TABLES |= {CAMPAIGN_OUTCOMES.name: CAMPAIGN_OUTCOMES}  # campaign outcomes (issue #15)
