"""Cached data access: the warehouse, queries, models and fitted analytics, keyed by version.

One cache helper, :func:`cached`, runs any :mod:`churn_core` function and keeps its
result per arguments, per **data version** (the raw file and the warehouse settings)
and per **model version** (the SHA-256 of the model file), so that a rebuilt warehouse
or a retrained model is never served from an old entry. Functions whose first parameter
is ``wh`` get the warehouse passed in. Results that are DataFrames or plain values are
kept with ``st.cache_data``; fitted models and explainers with ``st.cache_resource``.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from churn_core.analytics import clv as clv_lib
from churn_core.analytics import eda, segments
from churn_core.config import get_settings
from churn_core.data import customers as customer_lib
from churn_core.data.loading import DataValidationError, file_sha256
from churn_core.data.warehouse import Warehouse
from churn_core.studio import shared_warehouse
from ui.navigation import tr


# -- versions and the one cache helper -------------------------------------------------------
def data_version() -> str:
    """Version of the data: the warehouse settings and the raw file's modification time and size."""
    settings = get_settings()
    stat = settings.raw_customers_csv.stat()
    fields = ("warehouse_backend", "warehouse_path", "bigquery_project", "bigquery_dataset")
    where = "|".join(str(getattr(settings, f)) for f in fields)
    return f"{hashlib.sha256(where.encode()).hexdigest()[:12]}:{stat.st_mtime_ns}:{stat.st_size}"


@st.cache_data(show_spinner=False, max_entries=8)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    return file_sha256(path)


def model_path(schema: str | None = None) -> Path:
    """The model file for ``schema`` (default: the warehouse's, :func:`data_schema`) under ``models_dir``."""
    from churn_core.prediction.training import MODEL_FILE, bundle_dir

    return bundle_dir(get_settings().models_dir, schema or data_schema()) / MODEL_FILE


def model_version(schema: str | None = None) -> str:
    """SHA-256 of the model file for ``schema`` (default: the warehouse's; ``"none"`` when there is no model)."""
    path = model_path(schema) if schema else model_path()
    if not path.exists():
        return "none"
    stat = path.stat()
    return _file_sha256(str(path), stat.st_mtime_ns, stat.st_size)


def _resolve(target: str) -> Callable:
    module, _, name = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _invoke(target: str, args: tuple, kwargs: tuple, wh: Warehouse | None) -> Any:
    func = _resolve(target)
    return func(wh, *args, **dict(kwargs)) if wh is not None else func(*args, **dict(kwargs))


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached_data(target: str, versions: tuple[str, str], args: tuple, kwargs: tuple, _wh: Warehouse | None) -> Any:
    return _invoke(target, args, kwargs, _wh)


@st.cache_resource(show_spinner=False, max_entries=64)
def _cached_resource(target: str, versions: tuple[str, str], args: tuple, kwargs: tuple, _wh: Warehouse | None) -> Any:
    return _invoke(target, args, kwargs, _wh)


def cached(func: Callable, *args: Any, resource: bool = False, model: bool = False, **kwargs: Any) -> Any:
    """Run ``func(*args, **kwargs)`` once per arguments and data version (and model version).

    Parameters
    ----------
    func : callable
        A module-level function (its import path is the cache key; not a lambda or a
        closure). If its first parameter is named ``wh``, the warehouse is passed as that
        argument.
    *args, **kwargs
        Hashable arguments (they are part of the key).
    resource : bool
        Keep the result as a shared resource (fitted models, explainers) instead of a
        copied value.
    model : bool
        The result depends on the churn model: a retrained model (another SHA-256 of the
        model file) gets a new entry. Without it, only the data version counts.

    Returns
    -------
    object
        What ``func`` returns (a copy for values, the shared object for resources).
    """
    needs_wh = next(iter(inspect.signature(func).parameters), None) == "wh"
    versions = (data_version(), model_version() if model else "")
    target = f"{func.__module__}:{func.__qualname__}"
    store = _cached_resource if resource else _cached_data
    return store(target, versions, args, tuple(sorted(kwargs.items())), warehouse() if needs_wh else None)


# -- the warehouse -----------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _warehouse(settings_json: str, version: str) -> Warehouse:
    wh = shared_warehouse(type(get_settings()).model_validate_json(settings_json))
    wh.ensure_built()
    return wh


def warehouse() -> Warehouse:
    """Return the shared warehouse (DuckDB or BigQuery, by settings), built on first use.

    A raw file that fails validation stops the page with the list of problems.
    """
    try:
        with st.spinner(tr("app.building_warehouse")):
            return _warehouse(get_settings().model_dump_json(), data_version())
    except DataValidationError as exc:
        from ui.tables import show_problems  # ui.tables uses ui.widgets, which uses this module

        st.error(tr("app.data_error"))
        show_problems(exc.problems)  # translated reasons, CSV lines
        st.stop()
        raise  # unreachable: st.stop() raises


# -- customers and EDA ---------------------------------------------------------------------------
def query(name: str, filters: eda.EdaFilters, **kwargs: Any) -> Any:
    """Run (or fetch from cache) the EDA query ``churn_core.analytics.eda.<name>`` for ``filters``.

    Its ``features`` / ``columns`` (given, or the function's default) are limited to the columns the
    warehouse has: a classic-schema warehouse has no age, offer or revenue columns.
    """
    func = getattr(eda, name)
    have = set(customer_columns())
    for param in ("features", "columns"):
        spec = inspect.signature(func).parameters.get(param)
        if spec is not None:
            wanted = kwargs.get(param, spec.default)
            kept = tuple(c for c in wanted if c in have)
            if kept != tuple(wanted):
                kwargs[param] = kept
    return cached(func, filters, **kwargs)


def query_customers(ids: tuple[str, ...], columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Customers by ID (:func:`churn_core.data.customers.customer_rows`)."""
    return cached(customer_lib.customer_rows, tuple(ids), columns)


def customer_sample(seniors_only: bool = False, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """At most ``max_fit_rows`` customers, a deterministic sample (all of them on the IBM data).

    Pages that fit models or draw per-customer plots use this, never the whole table.
    """
    return cached(customer_lib.customer_sample, get_settings().max_fit_rows, seniors_only, columns)


def customer_count(seniors_only: bool = False) -> int:
    """Customers (or seniors) in the warehouse."""
    return cached(customer_lib.customer_count, seniors_only)


def segment_ids() -> list[int]:
    """The stored k-means segments, ascending."""
    return cached(eda.segment_ids)


def _segment_traits(wh: Warehouse, n: int) -> dict[int, list[str]]:
    sample = customer_lib.customer_sample(wh, n)
    return segments.segment_traits(sample, sample["segment"])


def segment_traits() -> dict[int, list[str]]:
    """Trait codes of each stored segment over the model sample, as the segments page names them
    (:func:`churn_core.analytics.segments.segment_traits`; computed once per data version)."""
    return cached(_segment_traits, get_settings().max_fit_rows)


# -- which schema the warehouse holds (issue #13: extended or classic) -----------------------------
def customer_columns() -> tuple[str, ...]:
    """Columns of the warehouse's ``customers`` table (a classic file gives fewer)."""
    return cached(customer_lib.customer_columns)


def data_schema() -> str:
    """``"extended"`` or ``"classic"``: the schema the warehouse was built from."""
    from churn_core.data.schema import detect_schema

    return detect_schema(customer_columns())


def present(columns) -> tuple[str, ...]:
    """Those of ``columns`` (warehouse names) the warehouse has, in order: choices of a selectbox."""
    have = set(customer_columns())
    return tuple(c for c in columns if c in have)


def missing_columns(*columns: str) -> list[str]:
    """The raw names of ``columns`` (warehouse names) the warehouse lacks; [] when it has them all."""
    from churn_core.data.schema import missing_for

    return missing_for(customer_columns(), columns)


def audience_customers() -> pd.DataFrame:
    """``customer_id``, ``age_group`` and ``segment`` of :func:`customer_sample` for the outreach audience.

    A classic-schema warehouse has no ``age_group`` (it needs ``Age``): the column is then empty.
    """
    wanted = ("customer_id", "age_group", "segment")
    have = set(customer_columns())
    return customer_sample(columns=tuple(c for c in wanted if c in have)).reindex(columns=list(wanted))


# -- churn model -------------------------------------------------------------------------------
def model_bundle(schema: str | None = None):
    """The trained churn model for ``schema`` (default: the warehouse's), its explainer background and card.

    Stops the page if the model is missing, or if ``load_bundle`` refuses the files (a hash that
    differs from ``models/manifest.json``, or a type outside the trusted list): the catalog's words,
    then the error naming the file and how to rebuild it.
    """
    from churn_core.prediction.training import ModelFileError, UntrustedModelError

    schema = schema or data_schema()
    if not model_path(schema).exists():
        st.error(tr("model.missing"))
        flag = "" if schema == "extended" else f" --schema {schema}"
        st.code(f"make run   # or: .venv/bin/churn-studio train{flag} --no-evaluate --no-grid", language="bash")
        st.stop()
    try:
        return cached(_load_bundle, schema, str(get_settings().models_dir), model_version(schema), resource=True)
    except ModelFileError as exc:
        st.error(tr("model.untrusted") if isinstance(exc, UntrustedModelError) else tr("model.integrity"))
        st.code(str(exc), language=None)
        st.stop()
        raise  # unreachable: st.stop() raises


def _load_bundle(schema: str, models_dir: str, version: str):
    """:func:`churn_core.prediction.training.load_schema_bundle`, cached per model file version."""
    from churn_core.prediction.training import load_schema_bundle

    return load_schema_bundle(schema, Path(models_dir))


def _make_explainer(models_dir: str, schema: str, version: str):
    from churn_core.prediction.explain import EnsembleExplainer

    bundle = model_bundle(schema)  # the cached, verified bundle of this model version
    return EnsembleExplainer(bundle.model, bundle.background)


def explainer(schema: str | None = None):
    """SHAP explainer of the model for ``schema`` (default: the warehouse's), rebuilt when the model file changes."""
    schema = schema or data_schema()
    model_bundle(schema)  # stops the page when there is no model
    return cached(_make_explainer, str(get_settings().models_dir), schema, model_version(schema), resource=True)


def _read_table(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


def model_table(name: str) -> pd.DataFrame | None:
    """An evaluation table from ``models/`` (leaderboard CSV or OOF parquet); None if absent.

    Re-read whenever the file changes (its modification time is part of the key).
    """
    from churn_core.prediction.training import bundle_dir

    path = bundle_dir(get_settings().models_dir, data_schema()) / name  # the model of the warehouse's schema
    if not path.exists():
        return None
    return cached(_read_table, str(path), path.stat().st_mtime_ns)


def at_risk_senior_scores(economics=None) -> pd.DataFrame:
    """At-risk seniors, per economics: from the latest ``churn-studio score`` run of this model, else the sample.

    The run is looked up on every call (outside the cache), so a batch run that finishes
    while the app is open is used from the next rerun on.
    """
    from churn_core.prediction.batch import latest_run
    from churn_core.prediction.business import Economics

    economics = economics or Economics.from_settings()
    run = latest_run(warehouse(), model_version())
    run_id = None if run is None else str(run["run_id"])
    return cached(_at_risk, economics.model_dump_json(), get_settings().max_fit_rows, run_id, model=True)


def _at_risk(wh: Warehouse, economics_json: str, sample_rows: int, run_id: str | None) -> pd.DataFrame:
    from churn_core.prediction.at_risk import at_risk_seniors_in_warehouse
    from churn_core.prediction.business import Economics

    economics = Economics.model_validate_json(economics_json)
    return at_risk_seniors_in_warehouse(wh, model_bundle().model, run_id, economics, sample_rows)


# -- survival, CLV and segments ------------------------------------------------------------------
def survival_results():
    """(Weibull AFT fitted on :func:`customer_sample`, its CLV table, held-out evaluation)."""
    with st.spinner(tr("clv.fitting")):
        return cached(clv_lib.fit_on_sample, get_settings().max_fit_rows, resource=True)


def segmenters():
    """(k-means Segmenter of :func:`customer_sample`, Segmenter of its seniors)."""
    with st.spinner(tr("seg.fitting")):
        return cached(segments.fit_segmenters_on_sample, get_settings().max_fit_rows, resource=True)


def factor_loadings() -> pd.DataFrame:
    """Varimax factor loadings of the service and usage variables of :func:`customer_sample`."""
    return cached(segments.factor_loadings_on_sample, get_settings().max_fit_rows)


# -- locations and map -----------------------------------------------------------------------------
def _locations_csv() -> Path:
    return get_settings().locations_dir / "locations.csv"


def places() -> pd.DataFrame:
    """The geocoded locations shipped in ``data/locations`` (re-read when the file changes)."""

    path = _locations_csv()
    return cached(_load_places, str(path), path.stat().st_mtime_ns)


def _load_places(path: str, mtime_ns: int) -> pd.DataFrame:
    from churn_core.geo import locations

    return locations.load(path)


def gu_geojson() -> dict:
    """Simplified district (구) boundaries as GeoJSON, computed once."""
    from churn_core.geo.maps import gu_boundaries_geojson

    return cached(gu_boundaries_geojson)


def _fit_address_geocoder(path: str, mtime_ns: int):
    from churn_core.geo import locations
    from churn_core.geo.geocoding import OfflineGeocoder

    return OfflineGeocoder().fit(locations.load(path)["address"])


def address_geocoder():
    """The geocoder of typed addresses: Kakao (cached) when ``CHURN_KAKAO_API_KEY`` is set, falling
    back to the offline geocoder fitted on the shipped addresses (road → dong, once per file version)."""
    from churn_core.geo.geocoding import typed_address_geocoder

    path = _locations_csv()
    offline = cached(_fit_address_geocoder, str(path), path.stat().st_mtime_ns, resource=True)
    return typed_address_geocoder(get_settings(), offline)


# -- uploads ---------------------------------------------------------------------------------------
def upload_limits() -> tuple[int, int]:
    """(MB, data rows) one upload may have: the settings, and at most Streamlit's ``server.maxUploadSize``."""
    settings = get_settings()
    return min(settings.max_upload_mb, int(st.get_option("server.maxUploadSize"))), settings.max_upload_rows


def once_per_upload(slot: str, data: bytes, compute: Callable[[], Any], *key: str) -> Any:
    """``compute()`` run once per upload, not again on every rerun.

    The result is kept in session state under ``slot``, keyed by the SHA-256 of ``data``,
    the model version and ``key``; only the latest upload per slot is kept (an upload can
    be large). A :class:`DataValidationError` raised by ``compute`` is kept as well and
    raised again, so a rerun (a sidebar change, a download click) re-validates neither a
    good file nor a bad one.
    """
    full_key = (hashlib.sha256(data).hexdigest(), model_version(), *key)
    entry = st.session_state.get(f"_upload_{slot}")
    if entry is None or entry[0] != full_key:
        try:
            entry = (full_key, compute(), None)
        except DataValidationError as exc:
            entry = (full_key, None, exc)
        st.session_state[f"_upload_{slot}"] = entry
    if entry[2] is not None:
        raise entry[2].with_traceback(None)
    return entry[1]


# -- outreach --------------------------------------------------------------------------------------
def contact_book() -> pd.DataFrame:
    """The warehouse's contact book; a clearly labelled demo book is stored when it is empty (not cached)."""
    from churn_core.outreach.contacts import contact_book as book

    seniors = customer_sample(seniors_only=True, columns=("customer_id",))
    return book(warehouse(), seniors, gus=tuple(sorted(places()["gu"].unique())))
