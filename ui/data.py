"""Cached data access: the warehouse, queries, models and fitted analytics, keyed by version.

One cache helper, :func:`cached`, runs any :mod:`churn_core` function and keeps its
result per arguments, per **data version** (the raw file and the warehouse settings)
and per **model version** (the SHA-256 of the registry champion's model file, re-read from the
champion pointer on every call), so that a rebuilt warehouse, a retrained or a newly promoted model
is never served from an old entry. Functions whose first parameter
is ``wh`` get the warehouse passed in. Results that are DataFrames or plain values are
kept with ``st.cache_data``; fitted models and explainers with ``st.cache_resource``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import inspect
import json
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
    """Version of the data: the warehouse settings, the raw file's modification time and size, and the
    snapshot shown (the sidebar's "as of" date and that snapshot's SHA-256; issue #14)."""
    day = selected_as_of()
    sha = snapshot_row(day).get("raw_sha256", "") if day is not None else ""
    return f"{_base_data_version()}:{day.isoformat() if day else 'latest'}:{str(sha)[:16]}"


def _base_data_version() -> str:
    """Version of the warehouse itself: its settings and the raw file's modification time and size."""
    settings = get_settings()
    stat = settings.raw_customers_csv.stat()
    fields = ("warehouse_backend", "warehouse_path", "bigquery_project", "bigquery_dataset")
    where = "|".join(str(getattr(settings, f)) for f in fields)
    return f"{hashlib.sha256(where.encode()).hexdigest()[:12]}:{stat.st_mtime_ns}:{stat.st_size}"


@st.cache_data(show_spinner=False, max_entries=8)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    return file_sha256(path)


def model_dir(schema: str | None = None) -> Path:
    """The champion's folder in the model registry for ``schema`` (default: the warehouse's, :func:`data_schema`).

    Read from the registry's champion pointer on every call (one ``stat`` while it is unchanged), so a
    promotion reaches every page at its next rerun. When no champion can be made (the shipped model in
    ``models_dir`` is missing or refused), the shipped folder: :func:`model_bundle` then says why.
    """
    from churn_core.prediction.registry import champion_dir
    from churn_core.prediction.training import ModelFileError, bundle_dir

    settings, schema = get_settings(), schema or data_schema()
    try:
        return champion_dir(settings, schema)
    except (FileNotFoundError, ModelFileError):
        return bundle_dir(settings.models_dir, schema)


def model_path(schema: str | None = None) -> Path:
    """The champion's model file for ``schema`` (default: the warehouse's), see :func:`model_dir`."""
    from churn_core.prediction.training import MODEL_FILE

    return model_dir(schema) / MODEL_FILE


def model_info(schema: str | None = None) -> dict:
    """The champion's ``version.json`` (version, trained, trained_on, metrics …); {} when there is no champion."""
    from churn_core.prediction.registry import VERSION_FILE

    path = model_dir(schema) / VERSION_FILE
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def model_version(schema: str | None = None) -> str:
    """SHA-256 of the champion's model file for ``schema`` (default: the warehouse's; ``"none"`` when there is no
    model): the model part of every cache key, so a promotion gets new cache entries."""
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
    """Return the shared warehouse (DuckDB or BigQuery, by settings), built on first use, as of the
    snapshot chosen in the sidebar (:meth:`churn_core.data.warehouse.Warehouse.at`; the latest by default).

    A raw file that fails validation stops the page with the list of problems.
    """
    base = _base_warehouse()
    day = selected_as_of()
    if day is None:
        return base
    return _snapshot_view(base, day, str(snapshot_row(day)["table_name"]))


def _base_warehouse() -> Warehouse:
    """The shared warehouse itself (``customers`` = the latest snapshot), built on first use."""
    try:
        with st.spinner(tr("app.building_warehouse")):
            return _warehouse(get_settings().model_dump_json(), _base_data_version())
    except DataValidationError as exc:
        from ui.tables import show_problems  # ui.tables uses ui.widgets, which uses this module

        st.error(tr("app.data_error"))
        show_problems(exc.problems)  # translated reasons, CSV lines
        st.stop()
        raise  # unreachable: st.stop() raises


# -- customer snapshots: the sidebar's "as of" date (issue #14, churn_core.data.snapshots) --------
#: Session-state key of the snapshot date chosen in the sidebar (``datetime.date``; absent or None: the latest).
AS_OF_KEY = "as_of"
#: Seconds a BigQuery warehouse's build key (one metadata query) is reused by :func:`_precomputed_or`.
BUILD_KEY_TTL_S = 60


@st.cache_data(show_spinner=False, ttl=60, max_entries=8)
def _snapshot_list(settings_json: str, version: str) -> pd.DataFrame:
    from churn_core.data.snapshots import list_snapshots

    return list_snapshots(_warehouse(settings_json, version))


def snapshot_list() -> pd.DataFrame:
    """The registered customer snapshots, oldest first (:func:`churn_core.data.snapshots.list_snapshots`;
    re-read at most once a minute, so a snapshot ingested elsewhere appears)."""
    _base_warehouse()  # built first (with its spinner; a refused raw file stops the page)
    return _snapshot_list(get_settings().model_dump_json(), _base_data_version())


def snapshot_row(day: dt.date | None) -> dict:
    """The ``snapshots`` row of ``day`` as a dict ({} if none)."""
    df = snapshot_list()
    hit = df[df["snapshot_date"] == day]
    return {} if hit.empty else hit.iloc[0].to_dict()


def selected_as_of() -> dt.date | None:
    """The snapshot date chosen in the sidebar, or None for the latest (also when the choice is no longer listed)."""
    day = st.session_state.get(AS_OF_KEY)
    if day is None:
        return None
    dates = list(snapshot_list()["snapshot_date"])
    if day not in dates or day == dates[-1]:
        return None
    return day


def shown_snapshot() -> dict:
    """The ``snapshots`` row of the snapshot every page shows (the chosen one or the latest; {} if none)."""
    df = snapshot_list()
    if df.empty:
        return {}
    day = selected_as_of()
    return snapshot_row(day) if day is not None else df.iloc[-1].to_dict()


_VIEWS: dict[tuple[int, dt.date, str], Warehouse] = {}


def _snapshot_view(base: Warehouse, day: dt.date, table: str) -> Warehouse:
    from churn_core.data.warehouse import SnapshotView

    key = (id(base), day, table)
    if key not in _VIEWS:
        _VIEWS[key] = SnapshotView(base, day, table)
    return _VIEWS[key]


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


def segment_traits() -> dict[int, list[str]]:
    """Trait codes of each stored segment over the model sample, as the segments page names them
    (:func:`churn_core.analytics.segments.segment_traits`; stored by the build, else computed once)."""
    from churn_core.analytics import precomputed

    return _precomputed_or(("stored_result", precomputed.TRAITS), segments.segment_traits_on_sample, say=False)


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
    """The champion churn model for ``schema`` (default: the warehouse's), its explainer background and card.

    Stops the page if the model is missing, or if ``load_bundle`` refuses the files (a hash that
    differs from the manifest, or a type outside the trusted list), or the registry cannot be read:
    the catalog's words, then the error naming the file and how to fix it.
    """
    from churn_core.prediction.registry import RegistryError
    from churn_core.prediction.training import MODEL_FILE, ModelFileError, UntrustedModelError

    schema = schema or data_schema()
    try:
        directory = model_dir(schema)
        if not (directory / MODEL_FILE).exists():
            st.error(tr("model.missing"))
            flag = "" if schema == "extended" else f" --schema {schema}"
            st.code(f"make run   # or: .venv/bin/churn-studio train{flag} --no-evaluate --no-grid", language="bash")
            st.stop()
        return cached(_load_bundle, schema, str(directory), model_version(schema), resource=True)
    except ModelFileError as exc:
        st.error(tr("model.untrusted") if isinstance(exc, UntrustedModelError) else tr("model.integrity"))
        st.code(str(exc), language=None)
        st.stop()
        raise  # unreachable: st.stop() raises
    except RegistryError as exc:
        st.error(tr("registry.error"))
        st.code(str(exc), language=None)
        st.stop()
        raise  # unreachable: st.stop() raises


def _load_bundle(schema: str, directory: str, version: str):
    """The bundle in ``directory`` (a registry version, checked), cached per model file version.

    ``directory`` is the shipped folder only when no champion could be made from it: loading it
    again raises the refusal that names the file.
    """
    from churn_core.prediction.registry import VERSION_FILE, load_version_dir
    from churn_core.prediction.training import load_schema_bundle

    if (Path(directory) / VERSION_FILE).exists():
        return load_version_dir(Path(directory), schema)
    return load_schema_bundle(schema, get_settings().models_dir)


def _make_explainer(model_folder: str, schema: str, version: str):
    from churn_core.prediction.explain import EnsembleExplainer

    bundle = model_bundle(schema)  # the cached, verified bundle of this model version
    return EnsembleExplainer(bundle.model, bundle.background)


def explainer(schema: str | None = None):
    """SHAP explainer of the champion for ``schema`` (default: the warehouse's), rebuilt when the champion changes."""
    schema = schema or data_schema()
    model_bundle(schema)  # stops the page when there is no model
    return cached(_make_explainer, str(model_dir(schema)), schema, model_version(schema), resource=True)


def _read_table(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


def model_table(name: str) -> pd.DataFrame | None:
    """An evaluation table from ``models/`` (leaderboard CSV or OOF parquet); None if absent.

    Re-read whenever the file changes (its modification time is part of the key).
    """
    path = model_dir() / name  # the champion of the warehouse's schema
    if not path.exists():
        return None
    return cached(_read_table, str(path), path.stat().st_mtime_ns)


def at_risk_senior_scores(economics=None) -> pd.DataFrame:
    """At-risk seniors, per economics, from stored scores of the champion; scored here only when none are stored.

    Which stored scores (:func:`churn_core.prediction.at_risk.stored_at_risk_source`, looked up on
    every call outside the cache, so a scoring run, an ingest or a promotion reaches the next rerun):
    the latest ``churn-studio score`` run of the champion over the customers shown, else the
    probabilities the build or ingest stored for the model sample by the champion. With neither
    (a champion promoted since, a warehouse built without its after-build steps), the sample's
    seniors are scored here in chunks under a progress bar, and a caption says so.
    """
    from churn_core.prediction.at_risk import stored_at_risk_source
    from churn_core.prediction.business import Economics

    economics = economics or Economics.from_settings()
    rows, sha = get_settings().max_fit_rows, model_version()
    source = stored_at_risk_source(warehouse(), sha, rows)
    if source is not None:
        return cached(_at_risk_stored, economics.model_dump_json(), source, sha)
    return _at_risk_scored_here(economics, rows)


def _at_risk_stored(wh: Warehouse, economics_json: str, source: tuple[str, str], model_sha256: str) -> pd.DataFrame:
    from churn_core.prediction import at_risk
    from churn_core.prediction.business import Economics

    economics = Economics.model_validate_json(economics_json)
    kind, key = source
    if kind == "run":
        return at_risk.at_risk_seniors_from_scores(wh, key, economics)
    return at_risk.at_risk_seniors_from_sample(wh, key, model_sha256, economics)


#: Seniors scored per step of the page's progress bar when no scores are stored.
AT_RISK_CHUNK_ROWS = 2_000


def _at_risk_scored_here(economics, sample_rows: int) -> pd.DataFrame:
    from churn_core.analytics.precomputed import build_key
    from churn_core.i18n import fmt_int
    from churn_core.prediction.at_risk import combine_at_risk

    model_bundle()  # stops the page, saying why, when there is no usable model
    st.caption(tr("atrisk.scored_here"))
    n = len(customer_sample(seniors_only=True))
    steps = max(1, -(-n // AT_RISK_CHUNK_ROWS))
    bar = st.progress(0.0, text=tr("atrisk.scoring", n=fmt_int(n)))
    parts, data_key = [], build_key(warehouse(), sample_rows)  # a new build or ingest: new entries
    for i in range(steps):
        parts.append(cached(_at_risk_chunk, economics.model_dump_json(), data_key, i, model=True))
        bar.progress((i + 1) / steps, text=tr("atrisk.scoring", n=fmt_int(n)))
    bar.empty()
    return combine_at_risk(parts)


def _at_risk_chunk(economics_json: str, data_key: str, step: int) -> pd.DataFrame:
    """The at-risk seniors among chunk ``step`` of the sample's seniors (``data_key``: the build key, for the cache)."""
    from churn_core.prediction.at_risk import at_risk_seniors
    from churn_core.prediction.business import Economics

    seniors = customer_sample(seniors_only=True)
    chunk = seniors.iloc[step * AT_RISK_CHUNK_ROWS : (step + 1) * AT_RISK_CHUNK_ROWS]
    return at_risk_seniors(model_bundle().model, chunk, Economics.model_validate_json(economics_json))


# -- survival, CLV and segments (issue #17: read what the build stored, fit here only without it) --------
def _stored(wh: Warehouse, read: tuple, sample_rows: int, build_key: str) -> Any:
    """``churn_core.analytics.precomputed.<read[0]>(wh, sample_rows, *read[1:])``; ``build_key`` keys the cache."""
    from churn_core.analytics import precomputed

    return getattr(precomputed, read[0])(wh, sample_rows, *read[1:])


@st.cache_data(show_spinner=False, ttl=BUILD_KEY_TTL_S, max_entries=16)
def _build_key(version: str, rows: int) -> str:
    """:func:`churn_core.analytics.precomputed.build_key` of the warehouse, re-read at most every
    :data:`BUILD_KEY_TTL_S` seconds per data version (one metadata query, not one per result and rerun)."""
    from churn_core.analytics import precomputed

    return precomputed.build_key(warehouse(), rows)


def _precomputed_or(read: tuple, fit: Callable, *args: Any, resource: bool = False, say: bool = True) -> Any:
    """The build's stored result (:mod:`churn_core.analytics.precomputed`), else ``fit`` run here, said on the page.

    The stored result is looked up under the current build key (the build's ``raw_sha256`` and
    ``built_at``, the customers table, the sample size): read on every call on DuckDB, so a rebuilt
    warehouse or another snapshot never gets an old result; on BigQuery re-read at most every
    :data:`BUILD_KEY_TTL_S` seconds per data version (another snapshot still gets its own key at once).
    Without one (a warehouse built before the step existed, an older snapshot),
    ``fit(wh, sample_rows, *args)`` computes it as the page always did, once per data version, and
    (``say``) a caption says it was computed on the page.
    """
    from churn_core.analytics import precomputed

    settings = get_settings()
    rows = settings.max_fit_rows
    if settings.warehouse_backend == "bigquery":  # a metadata query costs a round trip there
        key = _build_key(data_version(), rows)
    else:  # DuckDB: read on every call (a rebuilt warehouse never gets an old result)
        key = precomputed.build_key(warehouse(), rows)
    stored = cached(_stored, read, rows, key, resource=resource)
    if stored is not None:
        return stored
    if say:
        st.caption(tr("analytics.computed_here"))
    with st.spinner(tr("analytics.fitting")):
        return cached(fit, rows, *args, resource=resource)


def survival_results():
    """(Survival curves of :func:`customer_sample`, its CLV table, held-out evaluation).

    The build's stored Weibull AFT curves (:class:`churn_core.analytics.survival.StoredSurvival`),
    else the model fitted here (:func:`churn_core.analytics.clv.fit_on_sample`): both give the same
    ``conditional_survival``.
    """
    return _precomputed_or(("stored_survival",), clv_lib.fit_on_sample, resource=True)


def kaplan_meier(group: str) -> tuple[pd.DataFrame, float]:
    """Kaplan–Meier curves of :func:`customer_sample` by ``group`` and the log-rank p-value (stored by the build)."""
    from churn_core.analytics import survival

    return _precomputed_or(("stored_kaplan_meier", group), survival.kaplan_meier_on_sample, group)


def segmenters():
    """(k-means segmenter of :func:`customer_sample`, segmenter of its seniors): stored by the build, else fitted."""
    return _precomputed_or(("stored_segmenters",), segments.fit_segmenters_on_sample, resource=True)


def factor_loadings() -> pd.DataFrame:
    """Varimax factor loadings of the service and usage variables of :func:`customer_sample` (stored by the build)."""
    from churn_core.analytics import precomputed

    return _precomputed_or(("stored_result", precomputed.FACTORS), segments.factor_loadings_on_sample)


def segment_projection() -> pd.DataFrame:
    """PCA map of :func:`customer_sample` coloured by stored segment (at most 3,000 points; stored by the build)."""
    from churn_core.analytics import precomputed

    return _precomputed_or(("stored_result", precomputed.PROJECTION), segments.projection_on_sample)


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
