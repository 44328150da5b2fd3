"""Streamlit glue shared by ``Home.py`` and ``pages/``: language, caching, sidebar filters.

All logic lives in :mod:`churn_core`; this package only holds what needs Streamlit:
``st.cache_resource`` for the warehouse connection, ``st.cache_data`` for query results,
and widgets used on more than one page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from churn_core import eda
from churn_core.config import get_settings
from churn_core.i18n import LANGUAGE_NAMES, LANGUAGES, t, value_label
from churn_core.loading import DataValidationError
from churn_core.warehouse import Warehouse, open_warehouse

LANG_KEY = "lang"


def lang() -> str:
    """Return the UI language chosen in the sidebar (the settings' default before that)."""
    return st.session_state.get(LANG_KEY, get_settings().default_language)


def tr(key: str, **values: object) -> str:
    """Translate ``key`` from the message catalog into the current UI language."""
    return t(key, lang(), **values)


def _store_language() -> None:
    st.session_state[LANG_KEY] = st.session_state[f"_{LANG_KEY}_widget"]


def language_selector() -> None:
    """Sidebar selector of the UI language.

    The choice is kept under a plain session-state key, which (unlike a widget key)
    survives page switches.
    """
    st.session_state[f"_{LANG_KEY}_widget"] = lang()
    st.sidebar.selectbox(
        tr("app.language"), LANGUAGES, format_func=LANGUAGE_NAMES.get,
        key=f"_{LANG_KEY}_widget", on_change=_store_language,
    )  # fmt: skip


#: The app's pages in navigation order: (script path, catalog key of the title, icon).
PAGES: tuple[tuple[str, str, str], ...] = (
    ("Home.py", "nav.home", ":material/home:"),
    ("pages/eda.py", "nav.eda", ":material/query_stats:"),
    ("pages/models.py", "nav.models", ":material/model_training:"),
    ("pages/scoring.py", "nav.scoring", ":material/person_search:"),
    ("pages/revenue.py", "nav.revenue", ":material/savings:"),
    ("pages/segments.py", "nav.segments", ":material/hub:"),
    ("pages/map.py", "nav.map", ":material/map:"),
    ("pages/outreach.py", "nav.outreach", ":material/campaign:"),
    ("pages/privacy.py", "nav.privacy", ":material/policy:"),
)


def page_setup(title_key: str, icon: str) -> None:
    """Set up a page: browser-tab title, language selector and translated navigation.

    Streamlit's own page list is hidden (``client.showSidebarNavigation = false``) because
    it shows file names; this one shows page titles from the message catalog.
    """
    st.set_page_config(page_title=tr(title_key), page_icon=icon, layout="wide")
    language_selector()
    for path, key, page_icon in PAGES:
        st.sidebar.page_link(path, label=tr(key), icon=page_icon)
    where = warehouse().describe()
    st.sidebar.caption(tr("app.backend", backend=tr(f"app.backend_{where['backend']}"), location=where["location"]))
    st.sidebar.divider()


@st.cache_resource(show_spinner=False)
def _warehouse(settings_json: str, raw_stat: tuple[int, int]) -> Warehouse:
    wh = open_warehouse(type(get_settings()).model_validate_json(settings_json))
    wh.ensure_built()
    return wh


def _raw_stat() -> tuple[int, int]:
    stat = get_settings().raw_customers_csv.stat()
    return stat.st_mtime_ns, stat.st_size


def warehouse() -> Warehouse:
    """Return the shared warehouse (DuckDB or BigQuery, by settings), built on first use.

    A raw file that fails validation stops the page with the list of problems.
    """
    settings = get_settings()
    try:
        with st.spinner(tr("app.building_warehouse")):
            return _warehouse(settings.model_dump_json(), _raw_stat())
    except DataValidationError as exc:
        st.error(tr("app.data_error"))
        st.code(str(exc), language=None)
        st.stop()
        raise  # unreachable: st.stop() raises


@st.cache_data(show_spinner=False, max_entries=512)
def _query(name: str, filters_json: str, kwargs: tuple, raw_stat: tuple[int, int]) -> Any:
    filters = eda.EdaFilters.model_validate_json(filters_json)
    return getattr(eda, name)(warehouse(), filters, **dict(kwargs))


def query(name: str, filters: eda.EdaFilters, **kwargs: Any) -> Any:
    """Run (or fetch from cache) the EDA query ``churn_core.eda.<name>`` for ``filters``."""
    return _query(name, filters.model_dump_json(), tuple(sorted(kwargs.items())), _raw_stat())


@st.cache_data(show_spinner=False, max_entries=256)
def _customers(ids, columns, raw_stat: tuple[int, int]) -> pd.DataFrame:
    return eda.customer_rows(warehouse(), ids, columns)


def query_customers(ids: tuple[str, ...], columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Customers by ID from the warehouse (cached); see :func:`churn_core.eda.customer_rows`."""
    return _customers(tuple(ids), columns, _raw_stat())


@st.cache_data(show_spinner=False, max_entries=16)
def _sample(n: int, seniors_only: bool, columns, raw_stat: tuple[int, int]) -> pd.DataFrame:
    return eda.customer_sample(warehouse(), n, seniors_only, columns)


def customer_sample(seniors_only: bool = False, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """At most ``max_fit_rows`` customers, a deterministic sample (all of them on the IBM data).

    Pages that fit models or draw per-customer plots use this, never the whole table.
    """
    return _sample(get_settings().max_fit_rows, seniors_only, columns, _raw_stat())


@st.cache_data(show_spinner=False)
def _count(seniors_only: bool, raw_stat: tuple[int, int]) -> int:
    return eda.customer_count(warehouse(), seniors_only)


def customer_count(seniors_only: bool = False) -> int:
    """Customers (or seniors) in the warehouse (cached)."""
    return _count(seniors_only, _raw_stat())


def sample_note() -> None:
    """Say so on the page when models and plots use a sample rather than every customer."""
    total, n = customer_count(), min(customer_count(), get_settings().max_fit_rows)
    if n < total:
        st.caption(tr("app.sample_note", n=f"{n:,}", total=f"{total:,}"))


_FILTER_WIDGETS = (
    ("age_groups", "age_group", "filters.age_group"),
    ("genders", "gender", "filters.gender"),
    ("contracts", "contract", "filters.contract"),
    ("internet_services", "internet_service", "filters.internet_service"),
    ("payment_methods", "payment_method", "filters.payment_method"),
    ("offers", "offer", "filters.offer"),
)
TENURE_MAX = 72


def _reset_filters(only_missing: bool = False) -> None:
    defaults = {f"f_{field}": [] for field, _, _ in _FILTER_WIDGETS}
    defaults |= {"f_senior_only": False, "f_tenure": (0, TENURE_MAX), "f_segments": []}
    for key, value in defaults.items():
        if not only_missing or key not in st.session_state:
            st.session_state[key] = value


@st.cache_data(show_spinner=False)
def _segments(raw_stat: tuple[int, int]) -> list[int]:
    return eda.segment_ids(warehouse())


def filter_sidebar() -> eda.EdaFilters:
    """Render the EDA filters in the sidebar and return them (empty selection = all)."""
    lg = lang()
    sb = st.sidebar
    _reset_filters(only_missing=True)
    sb.header(tr("filters.header"))
    values: dict[str, Any] = {}
    senior_only = sb.checkbox(tr("filters.senior_only"), key="f_senior_only")
    for field, column, label in _FILTER_WIDGETS:
        values[field] = sb.multiselect(
            tr(label), eda.allowed_values(column), key=f"f_{field}",
            format_func=lambda v: value_label(v, lg), placeholder=tr("filters.all"),
        )  # fmt: skip
    segments = sb.multiselect(
        tr("filters.segment"), _segments(_raw_stat()), key="f_segments",
        format_func=lambda s: tr("filters.segment_n", n=s), placeholder=tr("filters.all"),
    )  # fmt: skip
    low, high = sb.slider(tr("filters.tenure"), 0, TENURE_MAX, key="f_tenure")
    sb.button(tr("filters.reset"), on_click=_reset_filters)
    return eda.EdaFilters(
        senior_only=senior_only,
        tenure_min=low,
        tenure_max=600 if high == TENURE_MAX else high,  # the top of the slider means "72+"
        segments=tuple(segments),
        **{k: tuple(v) for k, v in values.items()},
    )


def download_csv(df: pd.DataFrame) -> bytes:
    """Encode a table as UTF-8 CSV with a byte-order mark (opens correctly in Excel)."""
    return df.to_csv(index=False).encode("utf-8-sig")


# -- churn model ---------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _bundle(models_dir: str, stamp: float):
    from churn_core.training import load_bundle

    return load_bundle(Path(models_dir))


def model_bundle():
    """The trained churn model, its explainer background and card; stops the page if missing."""
    from churn_core.training import MODEL_FILE

    path = get_settings().models_dir / MODEL_FILE
    if not path.exists():
        st.error(tr("model.missing"))
        st.code("make run   # or: .venv/bin/churn-studio train --no-evaluate --no-grid", language="bash")
        st.stop()
    return _bundle(str(get_settings().models_dir), path.stat().st_mtime)


@st.cache_resource(show_spinner=False)
def explainer():
    """SHAP explainer of the loaded model (built once per process)."""
    from churn_core.explain import EnsembleExplainer

    bundle = model_bundle()
    return EnsembleExplainer(bundle.model, bundle.background)


@st.cache_data(show_spinner=False)
def model_table(name: str) -> pd.DataFrame | None:
    """An evaluation table from ``models/`` (leaderboard CSV or OOF parquet); None if absent."""
    path = get_settings().models_dir / name
    if not path.exists():
        return None
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def economics_sidebar():
    """Sidebar inputs of the retention-offer economics (USD); returns an Economics."""
    from churn_core.business import Economics

    default = Economics.from_settings()
    sb = st.sidebar
    sb.header(tr("model.economics"))
    cost = sb.number_input(tr("model.offer_cost"), 0.0, 1000.0, default.offer_cost_usd, 5.0, key="econ_cost")
    success = sb.slider(tr("model.success_rate"), 0.05, 1.0, default.success_rate, 0.05, key="econ_success")
    months = sb.slider(tr("model.value_months"), 1, 60, int(default.value_months), key="econ_months")
    return Economics(offer_cost_usd=cost, success_rate=success, value_months=months)


# -- survival and CLV ----------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _survival(raw_stat: tuple[int, int]):
    from churn_core import survival

    customers = customer_sample()
    model = survival.SurvivalModel("weibull").fit(customers)
    return model, survival.customer_clv(model, customers), survival.evaluate_models(customers)


def survival_results():
    """(Weibull AFT fitted on all customers, per-customer CLV table, held-out evaluation)."""
    with st.spinner(tr("clv.fitting")):
        return _survival(_raw_stat())


@st.cache_resource(show_spinner=False)
def _segmenters(raw_stat: tuple[int, int]):
    from churn_core.segments import Segmenter

    customers = customer_sample()
    seniors = customers[customers["is_senior"]]
    return Segmenter().fit(customers), Segmenter().fit(seniors)


def segmenters():
    """(k-means Segmenter of all customers, Segmenter of seniors only), fitted once per process."""
    with st.spinner(tr("seg.fitting")):
        return _segmenters(_raw_stat())


@st.cache_data(show_spinner=False)
def _loadings(raw_stat: tuple[int, int]) -> pd.DataFrame:
    from churn_core.segments import factor_loadings

    return factor_loadings(customer_sample())


def factor_loadings() -> pd.DataFrame:
    """Varimax factor loadings of the service and usage variables (cached)."""
    return _loadings(_raw_stat())


@st.cache_data(show_spinner=False, max_entries=32)
def _at_risk(economics_json: str, raw_stat: tuple[int, int], model_sha: str, run_id: str | None) -> pd.DataFrame:
    from churn_core.batch import at_risk_seniors_from_scores
    from churn_core.business import Economics
    from churn_core.scoring import at_risk_seniors

    economics = Economics.model_validate_json(economics_json)
    if run_id is not None:
        return at_risk_seniors_from_scores(warehouse(), run_id, economics)
    return at_risk_seniors(model_bundle().model, customer_sample(seniors_only=True), economics)


@st.cache_data(show_spinner=False)
def _file_sha256(path: str, stamp: int) -> str:
    from churn_core.loading import file_sha256

    return file_sha256(path)


def at_risk_senior_scores(economics=None) -> pd.DataFrame:
    """At-risk seniors (tiers high / very high), cached per economics setting.

    Read from the warehouse's ``scores`` table when ``churn-studio score`` has scored every
    customer with the current model; otherwise scored here, on :func:`customer_sample`
    (every senior on the IBM data).
    """
    from churn_core.batch import latest_run
    from churn_core.business import Economics
    from churn_core.training import MODEL_FILE

    economics = economics or Economics.from_settings()
    path = get_settings().models_dir / MODEL_FILE
    sha = _file_sha256(str(path), path.stat().st_mtime_ns)
    run = latest_run(warehouse(), sha)
    return _at_risk(economics.model_dump_json(), _raw_stat(), sha, run["run_id"] if run else None)


# -- locations and map -------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def _places(path: str, stamp: float) -> pd.DataFrame:
    from churn_core import locations

    return locations.load(path)


def places() -> pd.DataFrame:
    """The geocoded locations shipped in ``data/locations`` (cached per file version)."""
    path = get_settings().locations_dir / "locations.csv"
    return _places(str(path), path.stat().st_mtime)


@st.cache_data(show_spinner=False)
def gu_geojson() -> dict:
    """Simplified district (gu) boundaries as GeoJSON, computed once."""
    from churn_core.maps import gu_boundaries_geojson

    return gu_boundaries_geojson()


@st.cache_resource(show_spinner=False)
def _address_geocoder(stamp: float):
    from churn_core.geocoding import OfflineGeocoder

    return OfflineGeocoder().fit(places()["address"])


def address_geocoder():
    """The offline geocoder, fitted on the shipped addresses (road → dong), once per file version."""
    return _address_geocoder((get_settings().locations_dir / "locations.csv").stat().st_mtime)


def map_labels() -> dict[str, str]:
    """UI text used inside the map (layers, legend, popups) in the current language."""
    from churn_core.maps import LAYERS

    keys = ("legend", "detail", "me", "nearest", "boundaries", "locate")
    labels = {k: tr(f"map.{k}") for k in keys}
    labels |= {f"precision_{p}": tr(f"map.precision_{p}") for p in ("address", "dong", "gu")}
    labels |= {f"layer.{layer.key}": tr(f"map.layer.{layer.key}") for layer in LAYERS}
    return labels


# -- outreach: sign-in and contact book ------------------------------------------------------
def staff_role() -> str | None:
    """Sign-in for the outreach page; returns the role of the signed-in user, or None.

    Accounts with Argon2 hashes come from the settings; when Streamlit's OIDC login is
    configured (``[auth]`` in secrets), a provider button is offered and the user's e-mail
    is mapped to a role by ``CHURN_OIDC_ROLES``. Without a valid session nothing
    sensitive is shown by the caller.
    """
    from churn_core.auth import authenticate

    settings = get_settings()
    if st.session_state.get("staff_role"):
        st.sidebar.caption(
            tr("out.signed_in", user=st.session_state["staff_user"], role=st.session_state["staff_role"])
        )
        if st.sidebar.button(tr("out.sign_out"), key="sign_out"):
            for key in ("staff_role", "staff_user"):
                st.session_state.pop(key, None)
            st.rerun()
        return st.session_state["staff_role"]
    oidc = "auth" in st.secrets if st.secrets.load_if_toml_exists() else False
    if oidc and getattr(st.user, "is_logged_in", False):
        role = settings.oidc_roles.get(str(st.user.get("email", "")))
        if role:
            st.session_state.update(staff_role=role, staff_user=str(st.user.get("email")))
            return role
    with st.form("staff_login"):
        st.subheader(tr("out.login"))
        user = st.text_input(tr("out.username"), key="login_user")
        password = st.text_input(tr("out.password"), type="password", key="login_password")
        submitted = st.form_submit_button(tr("out.sign_in"))
    if oidc:
        st.button(tr("out.sign_in_oidc"), on_click=st.login)
    if not settings.staff_users and not oidc:
        st.info(tr("out.no_accounts"), icon=":material/key:")
    if submitted:
        role = authenticate(settings.staff_users, user, password)
        if role is None:
            st.error(tr("out.bad_login"))
        else:
            st.session_state.update(staff_role=role, staff_user=user)
            st.rerun()
    return None


def contact_book() -> pd.DataFrame:
    """The warehouse's contact book; a clearly labelled demo book is loaded when it is empty."""
    from churn_core.contacts import demo_contacts

    wh = warehouse()
    book = wh.query("SELECT * FROM {contacts} ORDER BY customer_id")
    if book.empty:
        seniors = customer_sample(seniors_only=True, columns=("customer_id",))
        wh.replace_table("contacts", demo_contacts(seniors, gus=tuple(sorted(places()["gu"].unique()))))
        book = wh.query("SELECT * FROM {contacts} ORDER BY customer_id")
    return book
