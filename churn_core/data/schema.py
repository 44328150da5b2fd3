"""Declared schema of the IBM Telco Customer Churn file (extended, 52 columns).

Source: IBM Cognos Analytics 11.1.3+ "Telco customer churn" sample data module, merged
into one table (see ``data/README.md``). Customers live in California; money is in USD,
durations in months, data volumes in GB.

This module is the single place that declares, for every raw column, its warehouse
name (snake_case, valid in DuckDB and BigQuery), type, allowed values or range, unit
and meaning. The pandera schema, the data README table and the EDA filters are all
derived from it. It also declares :data:`LEAKAGE_COLUMNS`, which no churn model may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandera.pandas as pa

Kind = Literal["id", "category", "int", "float", "text"]

YES_NO = ("No", "Yes")
NO_INTERNET = ("No", "No internet service", "Yes")


@dataclass(frozen=True)
class ColumnSpec:
    """Declaration of one raw column.

    Attributes
    ----------
    raw : str
        Column name in the CSV file.
    name : str
        Column name in the warehouse and in the validated DataFrame.
    kind : {"id", "category", "int", "float", "text"}
        Logical type.
    description : str
        Meaning of the column (English, for the data README and docstrings).
    unit : str
        Unit of the values ("USD", "USD/month", "months", "GB/month", "years", "" …).
    allowed : tuple of str, optional
        Allowed values of a category column.
    ge, le : float, optional
        Inclusive value range of a numeric column.
    nullable : bool
        Whether a blank cell is allowed (only for columns where blank has a meaning).
    """

    raw: str
    name: str
    kind: Kind
    description: str
    unit: str = ""
    allowed: tuple[str, ...] | None = None
    ge: float | None = None
    le: float | None = None
    nullable: bool = False


def _cat(raw: str, name: str, description: str, allowed: tuple[str, ...]) -> ColumnSpec:
    return ColumnSpec(raw, name, "category", description, allowed=allowed)


def _num(
    raw: str,
    name: str,
    kind: Kind,
    description: str,
    unit: str,
    ge: float | None,
    le: float | None,
) -> ColumnSpec:
    return ColumnSpec(raw, name, kind, description, unit=unit, ge=ge, le=le)


CHURN_REASONS: tuple[str, ...] = (
    "Attitude of service provider", "Attitude of support person",
    "Competitor had better devices", "Competitor made better offer",
    "Competitor offered higher download speeds", "Competitor offered more data",
    "Deceased", "Don't know", "Extra data charges",
    "Lack of affordable download/upload speed", "Lack of self-service on Website",
    "Limited range of services", "Long distance charges", "Moved", "Network reliability",
    "Poor expertise of online support", "Poor expertise of phone support",
    "Price too high", "Product dissatisfaction", "Service dissatisfaction",
)  # fmt: skip

COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("customerID", "customer_id", "id", "Unique customer identifier (e.g. 7590-VHVEG)."),
    _cat("gender", "gender", "Customer's gender.", ("Female", "Male")),
    _num("SeniorCitizen", "senior_citizen", "int", "1 if the customer is 65 or older (equals Age >= 65).", "", 0, 1),
    _cat("Partner", "partner", "Has a partner.", YES_NO),
    _cat("Dependents", "dependents", "Lives with dependents.", YES_NO),
    _num("tenure", "tenure", "int", "Months with the company at the end of the quarter.", "months", 0, 600),
    _cat("PhoneService", "phone_service", "Subscribes to home phone service.", YES_NO),
    _cat("MultipleLines", "multiple_lines", "Subscribes to multiple telephone lines.", ("No", "No phone service", "Yes")),
    _cat("InternetService", "internet_service", "Internet service type.", ("DSL", "Fiber optic", "No")),
    _cat("OnlineSecurity", "online_security", "Subscribes to an online security service.", NO_INTERNET),
    _cat("OnlineBackup", "online_backup", "Subscribes to an online backup service.", NO_INTERNET),
    _cat("DeviceProtection", "device_protection", "Subscribes to a device protection plan.", NO_INTERNET),
    _cat("TechSupport", "tech_support", "Subscribes to a technical support plan.", NO_INTERNET),
    _cat("StreamingTV", "streaming_tv", "Streams TV through the internet service.", NO_INTERNET),
    _cat("StreamingMovies", "streaming_movies", "Streams movies through the internet service.", NO_INTERNET),
    _cat("Contract", "contract", "Contract type.", ("Month-to-month", "One year", "Two year")),
    _cat("PaperlessBilling", "paperless_billing", "Has chosen paperless billing.", YES_NO),
    _cat("PaymentMethod", "payment_method", "How the customer pays the bill.",
         ("Bank transfer (automatic)", "Credit card (automatic)", "Electronic check", "Mailed check")),
    _num("MonthlyCharges", "monthly_charges", "float", "Current total monthly charge for all services.", "USD/month", 0, 10_000),
    ColumnSpec("TotalCharges", "total_charges", "float",
               "Total charges to the end of the quarter. Blank in the raw file for the 11 customers "
               "with tenure 0 (not yet billed); loaded as 0.0 and flagged in total_charges_was_blank.",
               unit="USD", ge=0, le=1_000_000, nullable=True),
    _cat("Churn", "churn", "Target: left the company this quarter (Yes/No).", YES_NO),
    _num("churn_rate", "churn_flag", "int", "Target as 0/1 (equals Churn == 'Yes'). LEAKAGE.", "", 0, 1),
    _num("Churn Score", "churn_score", "int", "IBM SPSS predicted churn score 0-100. LEAKAGE.", "points", 0, 100),
    _num("CLTV", "cltv", "int", "IBM's customer lifetime value estimate (a target of its own). LEAKAGE.", "USD", 0, 1_000_000),
    ColumnSpec("Churn Reason", "churn_reason", "category", "Customer's stated reason for leaving; blank for customers who stayed. LEAKAGE.",
               allowed=CHURN_REASONS, nullable=True),
    _num("Count", "count", "int", "Always 1 (row counter of the IBM module).", "", 1, 1),
    _cat("Country", "country", "Country of residence.", ("United States",)),
    _cat("State", "state", "State of residence.", ("California",)),
    ColumnSpec("City", "city", "text", "City of residence."),
    _num("Zip Code", "zip_code", "int", "ZIP code of residence.", "", 90_000, 96_199),
    ColumnSpec("Lat Long", "lat_long", "text", "Latitude and longitude of the ZIP centroid as text."),
    _num("Latitude", "latitude", "float", "Latitude of the ZIP centroid (WGS84).", "degrees", 32, 42.1),
    _num("Longitude", "longitude", "float", "Longitude of the ZIP centroid (WGS84).", "degrees", -124.5, -114),
    _num("Age", "age", "int", "Customer's age.", "years", 18, 120),
    _cat("Under 30", "under_30", "Age below 30.", YES_NO),
    _cat("Married", "married", "Is married.", YES_NO),
    _cat("Referred a Friend", "referred_a_friend", "Has ever referred a friend.", YES_NO),
    _num("Number of Referrals", "number_of_referrals", "int", "Number of friends referred.", "referrals", 0, 1_000),
    _cat("Offer", "offer", "Last marketing offer accepted ('None' if none).",
         ("None", "Offer A", "Offer B", "Offer C", "Offer D", "Offer E")),
    _num("Avg Monthly Long Distance Charges", "avg_monthly_long_distance_charges", "float",
         "Average monthly long-distance charges.", "USD/month", 0, 10_000),
    _num("Avg Monthly GB Download", "avg_monthly_gb_download", "int", "Average monthly download volume.", "GB/month", 0, 100_000),
    _cat("Streaming Music", "streaming_music", "Streams music through the internet service.", YES_NO),
    _cat("Premium Tech Support", "premium_tech_support",
         "Premium technical support (identical to TechSupport == 'Yes' in this file).", YES_NO),
    _cat("Unlimited Data", "unlimited_data", "Pays for unlimited data downloads.", YES_NO),
    _num("Total Refunds", "total_refunds", "float", "Total refunds to the end of the quarter.", "USD", 0, 1_000_000),
    _num("Total Extra Data Charges", "total_extra_data_charges", "float",
         "Total charges for extra data downloads above the plan.", "USD", 0, 1_000_000),
    _num("Total Long Distance Charges", "total_long_distance_charges", "float",
         "Total long-distance charges to the end of the quarter.", "USD", 0, 1_000_000),
    _num("Total Revenue", "total_revenue", "float",
         "Total revenue (identity: TotalCharges + extra data + long distance - refunds).", "USD", 0, 1_000_000),
    _num("Satisfaction Score", "satisfaction_score", "int",
         "Satisfaction 1-5 (1-2 always churned, 4-5 never). LEAKAGE.", "points", 1, 5),
    _cat("Customer Status", "customer_status", "Stayed / Churned / Joined at quarter end. LEAKAGE.", ("Churned", "Joined", "Stayed")),
    _num("Churn Score.1", "churn_score_1", "int", "Second IBM churn score column (differs slightly from Churn Score). LEAKAGE.", "points", 0, 100),
    _cat("Churn Category", "churn_category", "Category of the churn reason; '0' for customers who stayed. LEAKAGE.",
         ("0", "Attitude", "Competitor", "Dissatisfaction", "Other", "Price")),
)  # fmt: skip

COLUMN_BY_RAW: dict[str, ColumnSpec] = {c.raw: c for c in COLUMNS}
COLUMN_BY_NAME: dict[str, ColumnSpec] = {c.name: c for c in COLUMNS}
RAW_COLUMNS: tuple[str, ...] = tuple(c.raw for c in COLUMNS)
RENAME: dict[str, str] = {c.raw: c.name for c in COLUMNS}

#: Raw columns that leak the target (or are a target of their own) and must never reach a
#: churn model: see DEVELOPERS.md and ``data/README.md``.
LEAKAGE_COLUMNS_RAW: tuple[str, ...] = (
    "Churn", "churn_rate", "Churn Score", "Churn Score.1", "Churn Category", "Churn Reason",
    "Customer Status", "CLTV", "Satisfaction Score",
)  # fmt: skip
#: The same columns by their warehouse names.
LEAKAGE_COLUMNS: tuple[str, ...] = tuple(RENAME[c] for c in LEAKAGE_COLUMNS_RAW)

#: Target column (warehouse name) as 0/1.
TARGET: str = "churn_flag"

#: The 19 feature columns of the classic Kaggle schema (warehouse names).
CLASSIC_FEATURES: tuple[str, ...] = tuple(RENAME[c] for c in RAW_COLUMNS[1:20])


def _column_schema(spec: ColumnSpec) -> pa.Column:
    checks: list[pa.Check] = []
    if spec.allowed is not None:
        checks.append(pa.Check.isin(list(spec.allowed), error=f"value not in {list(spec.allowed)}"))
    if spec.ge is not None:
        checks.append(pa.Check.ge(spec.ge, error=f"value below {spec.ge:g}"))
    if spec.le is not None:
        checks.append(pa.Check.le(spec.le, error=f"value above {spec.le:g}"))
    dtype = {"id": str, "category": str, "text": str, "int": "int64", "float": "float64"}[spec.kind]
    return pa.Column(
        dtype,
        checks=checks,
        nullable=spec.nullable,
        unique=spec.kind == "id",
        coerce=spec.kind in ("int", "float"),
        required=True,
        title=spec.name,
        description=spec.description,
    )


def _churn_consistent(df):
    return df["churn_rate"] == (df["Churn"] == "Yes").astype("int64")


def _blank_total_only_when_new(df):
    # A blank TotalCharges is allowed only for customers not yet billed (tenure 0).
    return ~(df["TotalCharges"].isna() & (df["tenure"] > 0))


#: A blank ``TotalCharges`` is allowed only where ``tenure`` is 0 (not billed yet); checked on
#: every file that carries both columns (the raw file and files to score).
BLANK_TOTAL_CHARGES_CHECK = pa.Check(
    _blank_total_only_when_new,
    error="TotalCharges is blank but tenure > 0 (only customers with tenure 0 may be unbilled)",
)

#: pandera schema of the raw file (raw column names). Validation is lazy, so one run
#: reports every problem at once; see :func:`churn_core.data.loading.load_customers`.
RAW_SCHEMA: pa.DataFrameSchema = pa.DataFrameSchema(
    {spec.raw: _column_schema(spec) for spec in COLUMNS},
    checks=[
        pa.Check(
            _churn_consistent,
            error="columns churn_rate and Churn disagree (churn_rate must be 1 exactly when Churn is 'Yes')",
        ),
        BLANK_TOTAL_CHARGES_CHECK,
    ],
    strict=False,
    name="ibm_telco_customer_churn_extended",
)
