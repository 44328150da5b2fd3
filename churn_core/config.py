"""Path constants and the one typed settings object of the project.

Paths follow the cookiecutter-data-science layout (``data/raw`` is immutable input,
everything else under ``data/`` is built from it). Settings are read, in order of
precedence, from keyword arguments, environment variables prefixed ``CHURN_``, and a
git-ignored ``.env`` file in the project root (pydantic-settings).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT: Path = Path(__file__).resolve().parents[1]
DATA_DIR: Path = PROJECT_ROOT / "data"
RAW_DIR: Path = DATA_DIR / "raw"
RAW_CUSTOMERS_CSV: Path = RAW_DIR / "telco_customer_churn.csv"
RAW_LOCATIONS_DIR: Path = RAW_DIR / "locations"
LOCATIONS_DIR: Path = DATA_DIR / "locations"
MODELS_DIR: Path = PROJECT_ROOT / "models"

Language = Literal["ko", "en"]
Backend = Literal["duckdb", "bigquery"]


class Settings(BaseSettings):
    """Typed settings of the retention studio.

    Every field can be set by an environment variable ``CHURN_<FIELD>`` (for example
    ``CHURN_WAREHOUSE_PATH=/tmp/w.duckdb``) or in a ``.env`` file.

    Attributes
    ----------
    raw_customers_csv : Path
        The IBM Telco customer file in the extended 52-column schema.
    warehouse_backend : {"duckdb", "bigquery"}
        Where the tables live: the embedded DuckDB file (default) or BigQuery.
    warehouse_path : Path
        The embedded DuckDB warehouse file, built from ``raw_customers_csv`` on first use.
    duckdb_memory_limit : str
        Memory DuckDB may use for its buffers (``"1GB"``); keeps batch jobs bounded.
    bigquery_project, bigquery_dataset, bigquery_location : str
        BigQuery project, dataset (created if missing) and location (``asia-northeast3``
        is Seoul).
    bigquery_credentials_file : Path, optional
        Service-account key file (keep it out of git); default: Application Default
        Credentials (``gcloud auth application-default login``).
    bigquery_api_endpoint : str, optional
        A local BigQuery emulator (``http://127.0.0.1:9050``), used with anonymous
        credentials; for tests and offline development.
    locations_dir : Path
        The built, geocoded location table (``locations.csv``) the map reads.
    raw_locations_dir : Path
        Raw store and learning-centre lists (crawled CSVs) the build starts from.
    geocoder : {"offline", "kakao", "nominatim"}
        Geocoder of ``churn-locations build``; the shipped table uses ``offline``.
    kakao_api_key : SecretStr, optional
        Kakao Local REST API key (never in git: ``.env`` or the environment).
    geocode_cache_path : Path
        SQLite cache of API geocoding results (an address is geocoded once).
    kt_store_url, learning_centre_url : str
        Roots of the two sites the scrapers read.
    templates_dir : Path
        Edited message templates (JSON), kept so that a resumed campaign finds its text.
    staff_users : dict
        Outreach accounts: ``{"name": {"password_hash": "$argon2id$…", "role": "staff"}}``
        (``churn-studio user-hash``); roles analyst / marketer / staff.
    oidc_roles : dict
        E-mail address → role for users signed in with Streamlit's OIDC login.
    sender_name, sender_phone, opt_out_phone, privacy_url : str
        Sender identity required in every advertising message (정보통신망법 제50조).
    twilio_account_sid, twilio_auth_token, twilio_from_number, twilio_messaging_service_sid : str
        Twilio credentials; without them SMS go to the outbox only (rendered, not sent).
    twilio_base_url : str, optional
        Replaces https://api.twilio.com (a local stub for tests).
    smtp_host, smtp_port, smtp_username, smtp_password, smtp_from, smtp_starttls
        SMTP server for e-mail; without a host e-mail goes to the outbox only.
    unsubscribe_url : str
        One-click unsubscribe link put in List-Unsubscribe.
    send_rate_per_s : float
        Upper bound on messages per second within a campaign.
    control_share : float
        Default share of each campaign's audience held out as a control group.
    score_chunk_rows : int
        Rows per chunk of batch scoring (``churn-studio score``): bounds peak memory.
    max_fit_rows : int
        Customers sampled (deterministically) from the warehouse to fit the survival and
        segment models shown in the app, so that pages stay fast at millions of rows.
    models_dir : Path
        Trained churn-model artifacts and model card (``churn-studio train``).
    default_language : {"ko", "en"}
        Language of the UI before the user switches it.
    max_table_rows : int
        Rows of a filtered table shown on screen (the download has every row up to
        ``max_download_rows``).
    max_download_rows : int
        Upper bound on rows in one CSV download, so that a download never loads a
        warehouse of millions of customers into memory.
    offer_cost_usd, offer_success_rate, customer_value_months : float
        Default economics of a retention offer (USD per contact; share of would-be
        churners kept; months of monthly charges a kept customer is worth). They set the
        operating threshold (see :mod:`churn_core.prediction.business`); pages let users change them.
    """

    model_config = SettingsConfigDict(env_prefix="CHURN_", env_file=PROJECT_ROOT / ".env", extra="ignore")

    raw_customers_csv: Path = RAW_CUSTOMERS_CSV
    warehouse_backend: Backend = "duckdb"
    warehouse_path: Path = DATA_DIR / "warehouse.duckdb"
    duckdb_memory_limit: str = "1GB"
    bigquery_project: str | None = None
    bigquery_dataset: str = "churn_studio"
    bigquery_location: str = "US"
    bigquery_credentials_file: Path | None = None
    bigquery_api_endpoint: str | None = None
    locations_dir: Path = LOCATIONS_DIR
    raw_locations_dir: Path = RAW_LOCATIONS_DIR
    geocoder: Literal["offline", "kakao", "nominatim"] = "offline"
    kakao_api_key: SecretStr | None = None
    geocode_cache_path: Path = DATA_DIR / "geocode_cache.sqlite"
    kt_store_url: str = "https://help.kt.com"
    learning_centre_url: str = "https://www.xn--2z1bw8k1pjz5ccumkb.kr"
    templates_dir: Path = DATA_DIR / "templates"
    staff_users: dict[str, dict[str, str]] = Field(default_factory=dict)
    oidc_roles: dict[str, str] = Field(default_factory=dict)
    sender_name: str = "멀티텔레콤 리텐션팀(데모)"
    sender_phone: str = "02-0000-0000"
    opt_out_phone: str = "080-000-0000"
    privacy_url: str = "http://localhost:8501/privacy"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "retention@example.com"
    smtp_starttls: bool = True
    unsubscribe_url: str = "http://localhost:8501/privacy#opt-out"
    send_rate_per_s: float = Field(default=5.0, gt=0)
    control_share: float = Field(default=0.1, ge=0, lt=1)
    score_chunk_rows: int = Field(default=100_000, gt=0)
    max_fit_rows: int = Field(default=20_000, gt=100)
    models_dir: Path = MODELS_DIR
    default_language: Language = "ko"
    max_table_rows: int = Field(default=1_000, gt=0)
    max_download_rows: int = Field(default=500_000, gt=0)
    offer_cost_usd: float = Field(default=50.0, ge=0)
    offer_success_rate: float = Field(default=0.3, gt=0, le=1)
    customer_value_months: float = Field(default=12.0, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once from the environment and ``.env``)."""
    return Settings()
