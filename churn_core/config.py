"""Path constants and the one typed settings object of the project.

Paths follow the cookiecutter-data-science layout (``data/raw`` is immutable input,
everything else under ``data/`` is built from it). Settings are read, in order of
precedence, from keyword arguments, environment variables prefixed ``CHURN_``, and a
git-ignored ``.env`` file in the project root (pydantic-settings).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
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
        Kakao Local REST API key (never in git: ``.env`` or the environment). When set, the
        map page geocodes typed addresses with Kakao too (cached, offline fallback).
    kakao_base_url : str
        Root of the Kakao Local API (a local stub in tests).
    geocode_cache_path : Path
        SQLite cache of API geocoding results (an address is geocoded once).
    kt_store_url, learning_centre_url : str
        Roots of the two sites the scrapers read.
    templates_dir : Path
        Edited message templates (JSON), kept so that a resumed campaign finds its text.
    column_mappings_file : Path
        Column mappings users saved for uploaded files (JSON, keyed by the file's set of headers;
        :mod:`churn_core.data.reading`), offered again for a file with the same headers.
    staff_users : dict
        Outreach accounts: ``{"name": {"password_hash": "$argon2id$…", "role": "staff"}}``
        (``churn-studio user-hash``); roles analyst / marketer / staff.
    oidc_roles : dict
        E-mail address → role for users signed in with Streamlit's OIDC login (only
        addresses the provider marks ``email_verified`` get a role).
    demo_accounts_file : Path
        Demo accounts made by ``churn-studio demo-accounts`` (Argon2 hashes, git-ignored,
        mode 0600); used only when ``staff_users`` and ``oidc_roles`` are both empty.
    public_pages : list of str
        Pages anyone may open without signing in (page script stems); only aggregate,
        non-personal pages are allowed (``home``, ``eda``, ``models``, ``map``, ``privacy``).
        Customer-level parts of them (the EDA table and its download) still need a role.
    session_idle_minutes : float
        A signed-in session idle this long is signed out at its next interaction.
    signin_base_delay_s, signin_max_delay_s : float
        After n failed sign-ins in a row (per account and per session) the next attempt
        is refused for ``base × 2^(n−1)`` seconds, at most ``max``.
    signin_max_failures, signin_lockout_minutes : int, float
        After this many failures in a row the account (or session) is locked out for this
        long; each further failure locks it again (per process, see the README).
    sender_name, sender_phone, opt_out_phone, privacy_url : str
        Sender identity required in every advertising message (정보통신망법 제50조).
    twilio_account_sid, twilio_auth_token, twilio_from_number, twilio_messaging_service_sid : str
        Twilio credentials; without them SMS go to the outbox only (rendered, not sent).
    twilio_base_url : str, optional
        Replaces https://api.twilio.com (a local stub for tests).
    solapi_api_key, solapi_api_secret : str, SecretStr
        SOLAPI credentials (HMAC-SHA256 API key and secret; never in git). Without them the Korean
        channels (``sms_kr``, ``alimtalk``, ``brand``) go to the outbox only (rendered, not sent).
    solapi_base_url : str
        Root of the SOLAPI API (``https://api.solapi.com``; a local stub in tests).
    solapi_sender_number : str, optional
        The sender number (발신번호) of SOLAPI messages; it must be one of ``solapi_registered_senders``.
    solapi_registered_senders : list of str
        Sender numbers registered in advance with SOLAPI (발신번호 사전등록, 전기통신사업법 제84조의2);
        a sender outside this list, or none, refuses every SOLAPI message (held, reason
        ``sender_not_registered``).
    kakao_pf_id : str, optional
        The KakaoTalk channel's profile id (pfId) for 알림톡 and 브랜드 메시지.
    alimtalk_template_codes : dict of str to str
        Template id of this app → the template code Kakao approved for it (``{"alimtalk_notice":
        "KA01TP…"}``); an 알림톡 whose template has no approved code is held (``template_not_approved``).
    brand_targeting : {"I", "M", "N"}
        Targeting of 브랜드 메시지 (Kakao's codes; ``I``: the channel's friends only).
    message_cost_usd : dict of str to float
        Assumed cost of one message per campaign channel, in USD (an assumption, not a quote: about
        list prices at 1,400 KRW/USD; Twilio ``sms`` 0.06, SOLAPI ``sms_kr`` 0.02 (LMS costs more),
        ``alimtalk`` 0.01, ``brand`` 0.015, ``email`` 0.001). Campaign reports use it.
    smtp_host, smtp_port, smtp_username, smtp_password, smtp_from, smtp_starttls
        SMTP server for e-mail; without a host e-mail goes to the outbox only.
    unsubscribe_url : str
        The opt-out endpoint: ``/api/optout`` of the app (``make run`` serves ``app.py``, the
        app with the API mounted), or ``/optout`` of a standalone API (``make api``). Every e-mail's
        ``List-Unsubscribe`` carries it with a per-recipient signed ``?token=`` (RFC 8058
        one-click POST; a GET shows a confirmation page). See
        :mod:`churn_core.outreach.unsubscribe`.
    unsubscribe_secret : SecretStr, optional
        Key that signs unsubscribe tokens (at least 32 characters; keep it out of git). Unset:
        one is generated at first use and kept in ``unsubscribe_secret_file``. Changing it
        invalidates the links of every e-mail already sent.
    unsubscribe_secret_file : Path
        Where the generated key is kept (git-ignored, permissions 0600); back it up with the
        warehouse, or set ``unsubscribe_secret`` instead.
    api_host, api_port : str, int
        Address of the HTTP API (opt-out endpoint): ``127.0.0.1:8502``; put a TLS reverse
        proxy in front of it to reach it from the internet.
    api_keys : dict of str to str
        Keys of the prediction API (``/v1/…``): ``{"name": "hmac-sha256:<hex digest>"}``, one
        entry per client (``churn-studio api-key NAME`` prints one). Only digests are stored; a
        request names its key in the ``X-API-Key`` header. No keys: every ``/v1`` request is refused.
    api_revoked_keys : list of str
        Names of keys refused although still listed in ``api_keys`` (revocation that keeps the record).
    api_rate_limit : str
        Requests each key may make (``limits`` notation: ``"600/minute"``, ``"20/second"``).
    api_key_rate_limits : dict of str to str
        Per-key overrides of ``api_rate_limit`` (``{"crm": "6000/minute"}``).
    api_max_batch : int
        Most customers in one ``POST /v1/predict/batch`` (at most 1,000).
    api_max_body_bytes : int
        Largest body of a batch request (bytes); every other request: 16 KiB.
    send_rate_per_s : float
        Upper bound on messages per second within a campaign.
    sending_timeout_s : float
        Seconds a ledger row may stay ``sending`` (a provider call under way) before a later
        send run takes it for a crash and marks it ``failed`` / ``unknown_outcome`` (never
        resent). Keep it well above the longest provider call with its retries.
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
    max_upload_mb : int
        Largest file a user may upload, in MB (MiB, as Streamlit counts): checked by
        :func:`churn_core.data.uploads.check_upload`; keep Streamlit's
        ``server.maxUploadSize`` (``.streamlit/config.toml``) the same (the app uses the
        smaller of the two).
    max_upload_rows : int
        Most data rows in one uploaded file (files to score, contact books); a larger
        file is refused with both numbers, nothing is read further.
    base_snapshot_date : datetime.date
        Date of the first customer snapshot: the configured ``raw_customers_csv`` (default
        2019-09-30, nominal: the end of the IBM sample's Q3; see :mod:`churn_core.data.snapshots`).
    snapshots_dir : Path
        Folder of the synthetic snapshot files written by ``churn-studio snapshot synthesize``.
    build_steps : bool
        Run the studio's after-build steps on every build and ingest (EDA aggregate tables,
        precomputed survival / CLV / segments: :data:`churn_core.studio.STUDIO_AFTER_BUILD`).
        False builds faster; the EDA then runs plain SQL and the revenue and segments pages
        fit their models on first load and say so (tests use this for warehouses that do not
        test those steps).
    offer_cost_usd, offer_success_rate, customer_value_months : float
        Default economics of a retention offer (USD per contact; share of would-be
        churners kept; months of monthly charges a kept customer is worth). They set the
        operating threshold (see :mod:`churn_core.prediction.business`); pages let users change them.
    psi_warn, psi_alert : float
        Population stability index of a feature (or of the scores) from which the model health page
        warns (0.1) and alerts (0.2), after Siddiqi (2006); see :mod:`churn_core.monitoring.drift`.
    auc_drop_alert : float
        Alert when a snapshot's realised ROC-AUC is this much below the model card's cross-validated mean.
    calibration_alert : float
        Alert when a snapshot's expected calibration error (10 equal-width bins) exceeds this.
    min_outcome_events : int
        Fewer churners than this among a snapshot's outcomes: realised metrics are shown as too few to tell.
    bootstrap_resamples : int
        Resamples of the paired bootstrap behind every confidence interval of realised metrics.
    api_log_flush_rows, api_log_flush_seconds : int, float
        The API logs its scoring runs in batches: a buffer is written to ``scoring_runs`` when it holds
        this many customers or is this old (and when the API stops).
    log_dir : Path
        Where the app, the API and the commands write their JSON log lines
        (``<log_dir>/<component>.log``, rotated; :mod:`churn_core.logs`). Git-ignored.
    log_level : {"DEBUG", "INFO", "WARNING", "ERROR"}
        Lowest level written (to stderr and to the file).
    log_max_bytes, log_backup_count : int
        A log file is rotated when it would pass this size (bytes); this many old files are kept.
    registry_dir : Path
        The model registry (:mod:`churn_core.prediction.registry`): one folder per schema with a
        folder per model version (a full, hash-checked bundle), the ``champion.json`` pointer and the
        ``history.jsonl`` of decisions. Seeded from ``models_dir`` on first use. Git-ignored.
    retrain_metric : {"roc_auc", "pr_auc"}
        Metric on the held-out snapshot that decides ``churn-studio retrain``.
    retrain_margin : float
        The challenger must beat the champion on ``retrain_metric`` by at least this much to be promoted.
    retrain_max_brier_increase : float
        ...and its Brier score (calibration) may be at most this much worse than the champion's.
    retrain_trials : int
        Optuna trials per tuned member when ``churn-studio retrain`` fits a challenger (no nested CV).
    """

    model_config = SettingsConfigDict(env_prefix="CHURN_", env_file=PROJECT_ROOT / ".env", extra="ignore")

    raw_customers_csv: Path = RAW_CUSTOMERS_CSV
    #: Date of the first customer snapshot, the configured file (nominal: the IBM sample's Q3 end).
    base_snapshot_date: date = date(2019, 9, 30)
    #: Where ``churn-studio snapshot synthesize`` writes its CSV files (git-ignored).
    snapshots_dir: Path = DATA_DIR / "snapshots"
    build_steps: bool = True
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
    kakao_base_url: str = "https://dapi.kakao.com"
    geocode_cache_path: Path = DATA_DIR / "geocode_cache.sqlite"
    kt_store_url: str = "https://help.kt.com"
    learning_centre_url: str = "https://www.xn--2z1bw8k1pjz5ccumkb.kr"
    templates_dir: Path = DATA_DIR / "templates"
    column_mappings_file: Path = DATA_DIR / "column_mappings.json"
    staff_users: dict[str, dict[str, str]] = Field(default_factory=dict)
    oidc_roles: dict[str, str] = Field(default_factory=dict)
    demo_accounts_file: Path = DATA_DIR / "demo_accounts.json"
    public_pages: list[str] = Field(default_factory=lambda: ["home", "eda", "models", "map", "privacy"])
    session_idle_minutes: float = Field(default=30.0, gt=0)
    signin_base_delay_s: float = Field(default=0.5, ge=0)
    signin_max_delay_s: float = Field(default=30.0, ge=0)
    signin_max_failures: int = Field(default=5, gt=0)
    signin_lockout_minutes: float = Field(default=15.0, ge=0)

    @field_validator("public_pages")
    @classmethod
    def _only_aggregate_pages_public(cls, pages: list[str]) -> list[str]:
        from churn_core.auth import PUBLIC_ELIGIBLE_PAGES

        refused = sorted(set(pages) - PUBLIC_ELIGIBLE_PAGES)
        if refused:
            raise ValueError(f"pages with customer-level data cannot be public: {refused}")
        return pages

    sender_name: str = "멀티텔레콤 리텐션팀(데모)"
    sender_phone: str = "02-0000-0000"
    opt_out_phone: str = "080-000-0000"
    privacy_url: str = "http://localhost:8501/privacy"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str | None = None
    # Korean channels (issue #15, churn_core.outreach.korean): SOLAPI SMS/LMS, KakaoTalk 알림톡 and 브랜드 메시지
    solapi_api_key: str | None = None
    solapi_api_secret: SecretStr | None = None
    solapi_base_url: str = "https://api.solapi.com"
    solapi_sender_number: str | None = None
    solapi_registered_senders: list[str] = Field(default_factory=list)
    kakao_pf_id: str | None = None
    alimtalk_template_codes: dict[str, str] = Field(default_factory=dict)
    brand_targeting: Literal["I", "M", "N"] = "I"
    #: Assumed cost of one message per campaign channel (USD; list prices of 2026 at about 1,400 KRW/USD).
    message_cost_usd: dict[str, float] = Field(
        default_factory=lambda: {"sms": 0.06, "sms_kr": 0.02, "alimtalk": 0.01, "brand": 0.015, "email": 0.001}
    )

    @field_validator("message_cost_usd")
    @classmethod
    def _costs_not_negative(cls, value: dict[str, float]) -> dict[str, float]:
        negative = sorted(k for k, v in value.items() if v < 0)
        if negative:
            raise ValueError(f"message costs cannot be negative: {negative}")
        return value

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "retention@example.com"
    smtp_starttls: bool = True
    unsubscribe_url: str = "http://127.0.0.1:8501/api/optout"
    unsubscribe_secret: SecretStr | None = None
    unsubscribe_secret_file: Path = DATA_DIR / ".unsubscribe_secret"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8502, gt=0, lt=65536)
    api_keys: dict[str, str] = Field(default_factory=dict)
    api_revoked_keys: list[str] = Field(default_factory=list)
    api_rate_limit: str = "600/minute"
    api_key_rate_limits: dict[str, str] = Field(default_factory=dict)
    api_max_batch: int = Field(default=500, gt=0, le=1_000)
    api_max_body_bytes: int = Field(default=2_097_152, ge=16_384)

    @field_validator("api_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from limits import parse

        parse(value)  # ValueError naming the notation when it is not one
        return value

    @field_validator("api_key_rate_limits")
    @classmethod
    def _key_rate_limits_parse(cls, value: dict[str, str]) -> dict[str, str]:
        from limits import parse

        for limit in value.values():
            parse(limit)
        return value

    send_rate_per_s: float = Field(default=5.0, gt=0)
    sending_timeout_s: float = Field(default=600.0, gt=0)
    control_share: float = Field(default=0.1, ge=0, lt=1)
    score_chunk_rows: int = Field(default=100_000, gt=0)
    max_fit_rows: int = Field(default=20_000, gt=100)
    models_dir: Path = MODELS_DIR
    default_language: Language = "ko"
    max_table_rows: int = Field(default=1_000, gt=0)
    max_download_rows: int = Field(default=500_000, gt=0)
    max_upload_mb: int = Field(default=50, gt=0)
    max_upload_rows: int = Field(default=200_000, gt=0)
    offer_cost_usd: float = Field(default=50.0, ge=0)
    offer_success_rate: float = Field(default=0.3, gt=0, le=1)
    customer_value_months: float = Field(default=12.0, gt=0)
    # logs (issue #14, churn_core.logs): JSON lines to stderr and <log_dir>/<component>.log
    log_dir: Path = DATA_DIR / "logs"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_max_bytes: int = Field(default=10_485_760, ge=1_024)
    log_backup_count: int = Field(default=5, ge=0)
    # model health (issue #14, churn_core.monitoring): drift and realised-performance thresholds
    psi_warn: float = Field(default=0.1, gt=0)
    psi_alert: float = Field(default=0.2, gt=0)
    auc_drop_alert: float = Field(default=0.05, gt=0, lt=1)
    calibration_alert: float = Field(default=0.05, gt=0, lt=1)
    min_outcome_events: int = Field(default=30, gt=0)
    bootstrap_resamples: int = Field(default=500, ge=50, le=10_000)
    api_log_flush_rows: int = Field(default=500, gt=0)
    api_log_flush_seconds: float = Field(default=30.0, gt=0)
    # model registry and safe retraining (issue #14, churn_core.prediction.registry / retraining)
    registry_dir: Path = DATA_DIR / "registry"
    retrain_metric: Literal["roc_auc", "pr_auc"] = "roc_auc"
    retrain_margin: float = Field(default=0.005, ge=0, lt=1)
    retrain_max_brier_increase: float = Field(default=0.0, ge=0, lt=1)
    retrain_trials: int = Field(default=5, ge=0, le=200)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once from the environment and ``.env``)."""
    return Settings()
