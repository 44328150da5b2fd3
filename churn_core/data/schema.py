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

# --- Header aliases (issue #13, "reading files as people have them") ----------------------------
# Other names a file may give a column; headers are matched ignoring case, spaces, underscores,
# hyphens and a trailing unit in parentheses (churn_core.data.reading.header_key), so "가입 기간 (개월)"
# matches 가입기간 and "customer_id" matches customerID. The warehouse name is an alias of every column.
KOREAN_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "customerID": ("고객ID", "고객번호", "고객아이디"), "gender": ("성별",),
    "SeniorCitizen": ("고령자", "고령자여부", "시니어", "시니어여부"), "Partner": ("배우자", "배우자여부", "배우자/파트너", "파트너"),
    "Dependents": ("부양가족", "부양가족여부"), "tenure": ("가입기간", "가입개월수", "사용기간"),
    "PhoneService": ("전화서비스", "유선전화"), "MultipleLines": ("다회선", "복수회선"),
    "InternetService": ("인터넷서비스", "인터넷"), "OnlineSecurity": ("온라인보안",), "OnlineBackup": ("온라인백업",),
    "DeviceProtection": ("기기보호",), "TechSupport": ("기술지원",), "StreamingTV": ("TV스트리밍", "스트리밍TV"),
    "StreamingMovies": ("영화스트리밍", "스트리밍영화"), "Contract": ("계약유형", "계약", "약정"),
    "PaperlessBilling": ("전자청구서", "종이없는청구서"), "PaymentMethod": ("결제방법", "결제수단", "납부방법"),
    "MonthlyCharges": ("월요금", "월청구액", "월납부액"), "TotalCharges": ("총요금", "누적요금", "총청구액"),
    "Churn": ("이탈", "이탈여부", "해지여부"), "churn_rate": ("이탈플래그",), "Churn Score": ("이탈점수",),
    "CLTV": ("고객생애가치",), "Churn Reason": ("이탈사유", "해지사유"), "Count": ("건수",), "Country": ("국가",),
    "State": ("주",), "City": ("도시",), "Zip Code": ("우편번호",), "Lat Long": ("위경도",), "Latitude": ("위도",),
    "Longitude": ("경도",), "Age": ("나이", "연령"), "Under 30": ("30세미만",), "Married": ("기혼", "결혼여부"),
    "Referred a Friend": ("친구추천", "친구추천경험", "친구추천여부"), "Number of Referrals": ("추천횟수", "추천수"),
    "Offer": ("마케팅오퍼", "오퍼", "프로모션"), "Avg Monthly Long Distance Charges": ("월평균장거리통화료", "월평균장거리요금"),
    "Avg Monthly GB Download": ("월평균다운로드", "월평균데이터사용량"), "Streaming Music": ("음악스트리밍",),
    "Premium Tech Support": ("프리미엄기술지원",), "Unlimited Data": ("무제한데이터",), "Total Refunds": ("총환불액",),
    "Total Extra Data Charges": ("총추가데이터요금",), "Total Long Distance Charges": ("총장거리통화료", "총장거리요금"),
    "Total Revenue": ("총매출", "총수익"), "Satisfaction Score": ("만족도", "만족도점수"), "Customer Status": ("고객상태",),
    "Churn Score.1": ("이탈점수2",), "Churn Category": ("이탈범주", "이탈유형"),
}  # fmt: skip
#: Aliases of every raw column of the customer file: its warehouse name, then its Korean names.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {c.raw: (c.name, *KOREAN_COLUMN_NAMES[c.raw]) for c in COLUMNS}
#: Aliases of the contact book's columns (:data:`churn_core.outreach.contacts.CSV_COLUMNS`).
CONTACT_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "customerID": COLUMN_ALIASES["customerID"], "name": ("이름", "성명", "고객명"),
    "mobile": ("휴대폰", "휴대전화", "휴대폰번호", "휴대전화번호", "phone", "phone_e164"), "email": ("이메일", "e-mail", "전자우편"),
    "sms_consent": ("문자수신동의", "SMS수신동의"), "sms_consent_date": ("문자수신동의일", "SMS수신동의일"),
    "email_consent": ("이메일수신동의",), "email_consent_date": ("이메일수신동의일",),
    "night_consent": ("야간수신동의",), "night_consent_date": ("야간수신동의일",),
    "opted_out": ("수신거부",), "opted_out_date": ("수신거부일",), "preferred_channel": ("선호채널",), "gu": ("구", "자치구"),
}  # fmt: skip

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


# --- Two schemas (issue #13): the extended IBM file and the classic Kaggle file -------------------------

#: Columns that are not model features although they do not leak: identifiers, constants,
#: geography, and derived columns that only repeat other features (warehouse names).
NOT_FEATURES: tuple[str, ...] = (
    "customer_id", "count", "country", "state", "city", "zip_code", "lat_long", "latitude",
    "longitude", "total_charges_was_blank", "is_senior", "age_group", "tenure_band",
    "premium_tech_support",
)  # fmt: skip

#: The 21 raw columns of the classic Kaggle file ("Telco Customer Churn", blastchar): ``customerID``,
#: the 19 classic features and ``Churn``; exactly the first 21 columns of the extended file.
CLASSIC_RAW_COLUMNS: tuple[str, ...] = RAW_COLUMNS[:21]


@dataclass(frozen=True)
class SchemaSpec:
    """One accepted customer-file schema: what a file must hold and what it provides.

    Attributes
    ----------
    name : {"extended", "classic"}
        Key in :data:`SCHEMAS`.
    raw_columns : tuple of str
        Raw columns a file must hold to build the warehouse (target included).
    derived : tuple of str
        Derived columns (:mod:`churn_core.data.loading`) that can be computed from ``raw_columns``.
    not_derivable : dict of str to str
        Derived columns that cannot be computed, with the raw column they would need.
    features : tuple of str
        Model features (warehouse names) the schema provides, in model order; the model trained
        for this schema uses exactly these.
    description : str
        Where such files come from (English).
    """

    name: str
    raw_columns: tuple[str, ...]
    derived: tuple[str, ...]
    not_derivable: dict[str, str]
    features: tuple[str, ...]
    description: str

    @property
    def columns(self) -> tuple[str, ...]:
        """Warehouse columns of a ``customers`` table built from this schema (raw, then derived)."""
        return (*(RENAME[c] for c in self.raw_columns), *self.derived)

    @property
    def scoring_raw_columns(self) -> tuple[str, ...]:
        """Raw columns a file to score must hold: ``customerID`` and the inputs of every feature."""
        return ("customerID", *(COLUMN_BY_NAME[f].raw for f in self.features if f in COLUMN_BY_NAME))


#: The extended model's features: every raw column minus leakage, target and :data:`NOT_FEATURES`,
#: plus the derived ``n_services``.
EXTENDED_FEATURES: tuple[str, ...] = tuple(
    c for c in (*COLUMN_BY_NAME, "n_services") if c not in LEAKAGE_COLUMNS and c not in NOT_FEATURES and c != TARGET
)

#: The one declaration of both accepted schemas (see :func:`detect_schema`).
SCHEMAS: dict[str, SchemaSpec] = {
    "extended": SchemaSpec(
        "extended",
        RAW_COLUMNS,
        ("total_charges_was_blank", "is_senior", "age_group", "tenure_band", "n_services"),
        {},
        EXTENDED_FEATURES,
        "IBM Telco customer churn, extended (52 columns: demographics with Age, offers, usage, revenue, CLTV, "
        "satisfaction, churn reasons)",
    ),
    "classic": SchemaSpec(
        "classic",
        CLASSIC_RAW_COLUMNS,
        # n_services counts the 9 services of the classic file (no streaming music, unlimited data)
        ("churn_flag", "total_charges_was_blank", "is_senior", "tenure_band", "n_services"),
        {"age_group": "Age"},
        CLASSIC_FEATURES,
        "the classic Kaggle 'Telco Customer Churn' file (21 columns: customerID, 19 features, Churn)",
    ),
}


def detect_schema(columns) -> str:
    """Which of :data:`SCHEMAS` a table's columns follow (raw or warehouse names).

    A table with every extended column is ``"extended"``; otherwise one with every classic column
    (``Churn`` may be missing: files to score) is ``"classic"``, unless it holds more than half of
    the extended-only columns: that is an extended file with a misspelled or missing column, and
    validation (or the upload's mapping step) must name it rather than the classic model score it.
    A table complete for neither gets the schema it is closest to (fewest missing columns; ties go
    to the extended one), so that validation names what is missing for that schema.

    Parameters
    ----------
    columns : iterable of str
        Column names: raw (``customerID``, ``SeniorCitizen`` …) or warehouse (``customer_id`` …).

    Returns
    -------
    str
        ``"extended"`` or ``"classic"``.
    """
    names = {RENAME.get(str(c), str(c)) for c in columns}

    def gap(name: str) -> int:
        return len({RENAME[c] for c in SCHEMAS[name].scoring_raw_columns} - names)

    if gap("extended") == 0:
        return "extended"
    extended_only = {RENAME[c] for c in SCHEMAS["extended"].scoring_raw_columns} - {
        RENAME[c] for c in SCHEMAS["classic"].scoring_raw_columns
    }
    if 2 * len(extended_only & names) > len(extended_only):  # an extended file with a column amiss
        return "extended"
    if gap("classic") == 0 or gap("classic") < gap("extended"):
        return "classic"
    return "extended"


def missing_for(columns, needed) -> list[str]:
    """The ``needed`` warehouse columns absent from ``columns`` (what a chart or tab lacks).

    Parameters
    ----------
    columns : iterable of str
        Columns the data has (warehouse names).
    needed : iterable of str
        Columns a view needs.

    Returns
    -------
    list of str
        Raw names of the missing columns (as users know them from their file; a derived column that
        cannot be derived is named by the raw column it needs, ``age_group`` → ``Age``), in ``needed`` order.
    """
    have = set(columns)
    needs = {c: raw for spec in SCHEMAS.values() for c, raw in spec.not_derivable.items()}  # age_group -> Age
    return [COLUMN_BY_NAME[c].raw if c in COLUMN_BY_NAME else needs.get(c, c) for c in needed if c not in have]


#: pandera schema of a classic file (raw names): the classic columns' rules and the blank-total rule.
CLASSIC_RAW_SCHEMA: pa.DataFrameSchema = pa.DataFrameSchema(
    {c: RAW_SCHEMA.columns[c] for c in CLASSIC_RAW_COLUMNS},
    checks=[BLANK_TOTAL_CHARGES_CHECK],
    strict=False,
    name="telco_customer_churn_classic",
)

#: The pandera schema that validates a whole file of each schema (warehouse builds, training).
RAW_SCHEMAS: dict[str, pa.DataFrameSchema] = {"extended": RAW_SCHEMA, "classic": CLASSIC_RAW_SCHEMA}
