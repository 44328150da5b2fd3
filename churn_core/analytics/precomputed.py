"""Page analytics computed once per warehouse build and stored, so that no page fits a model.

The revenue and segments pages used to fit a Weibull AFT and a Cox model, Kaplan–Meier curves,
two k-means segmentations, a varimax factor analysis and a PCA inside the page (13 s and 11 s
at 1 million customers). :func:`precompute` runs all of them on the deterministic model sample
(:func:`churn_core.data.customers.customer_sample`) after every build or ingest (it is one of
:data:`churn_core.studio.STUDIO_AFTER_BUILD`) and writes:

* ``analytics_results``: one JSON document per result name (survival evaluation, the
  Kaplan–Meier curves of each group, the k-selection tables, factor loadings, the PCA map,
  segment traits);
* ``analytics_customers``: per customer of the sample, the Weibull curve (tenure, log scale,
  shape; :class:`churn_core.analytics.survival.StoredSurvival` evaluates it exactly), the
  senior segment and the churn model's probability.

Every row carries the **build key** (:func:`build_key`): the build's ``raw_sha256`` and
``built_at``, the customer count, the table the customers were read from and the sample size.
The ``stored_*`` readers return None when the key differs (a warehouse built before this step
existed, a rebuilt one whose step failed, or a snapshot view ``wh.at(d)`` of an older
snapshot): the caller then computes the result as before and says so — a stale result is never
returned. Floats are stored as JSON (Python's shortest round-trip repr) or FLOAT64: read back
bit for bit.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from churn_core.analytics.survival import KM_GROUPS, StoredSurvival
from churn_core.data.warehouse import Warehouse

_log = logging.getLogger(__name__)

#: Result names in ``analytics_results`` (Kaplan–Meier curves are ``km:<group>``).
EVALUATION, SEGMENTS_ALL, SEGMENTS_SENIORS = "survival_evaluation", "segments_all", "segments_seniors"
FACTORS, PROJECTION, TRAITS = "factor_loadings", "projection", "segment_traits"
RESULTS_TABLE, CUSTOMERS_TABLE = "analytics_results", "analytics_customers"


def build_key(wh: Warehouse, sample_rows: int) -> str:
    """Identity of the customers a precomputed result belongs to.

    Parameters
    ----------
    wh : Warehouse
        The warehouse (or a snapshot view of it).
    sample_rows : int
        Size of the model sample (``Settings.max_fit_rows``).

    Returns
    -------
    str
        ``raw_sha256|built_at|n_customers|<customers table>|<sample_rows>``; a new build, another
        snapshot's table or another sample size gives another key.
    """
    meta = wh.meta()
    parts = (meta.get("raw_sha256", ""), meta.get("built_at", ""), meta.get("n_customers", ""))
    return "|".join((*parts, wh.render("{customers}"), str(int(sample_rows))))


# -- JSON of frames, exact ------------------------------------------------------------------------
def _frame_json(df: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in df.columns],
        "index": df.index.tolist(),
        "data": df.to_numpy(dtype=object).tolist(),
        "dtypes": {str(c): str(t) for c, t in df.dtypes.items()},
    }


def _json_frame(doc: dict[str, Any]) -> pd.DataFrame:
    df = pd.DataFrame(doc["data"], index=doc["index"], columns=doc["columns"])
    if df.empty:
        df = pd.DataFrame({c: pd.Series(dtype=object) for c in doc["columns"]}, index=doc["index"])
    return df.astype(doc["dtypes"])


def _encode(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return {"__frame__": _frame_json(value)}
    if isinstance(value, dict):
        return {"__dict__": [[k, _encode(v)] for k, v in value.items()]}  # keys keep their type (int)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "__frame__" in value:
        return _json_frame(value["__frame__"])
    if isinstance(value, dict) and "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"]}
    return value


# -- the after-build step -------------------------------------------------------------------------
def precompute(
    wh: Warehouse,
    progress: Callable[[float, str], None] | None = None,
    sample_rows: int | None = None,
    models_dir=None,
) -> str:
    """Fit every page's models on the model sample and store their results (the after-build step).

    Parameters
    ----------
    wh : Warehouse
        A built warehouse (``customers`` written, with ``segment``).
    progress : callable(fraction, message), optional
        Called with the build's fractions (0.7–0.95) and an English step name.
    sample_rows : int, optional
        Model sample size (default ``Settings.max_fit_rows``).
    models_dir : path, optional
        Where the churn model bundles are (default ``Settings.models_dir``); without a model
        for the warehouse's schema no probabilities are stored (pages then score the sample).

    Returns
    -------
    str
        The build key written (:func:`build_key`).
    """
    from churn_core.analytics import clv as clv_lib
    from churn_core.analytics import segments, survival
    from churn_core.config import get_settings
    from churn_core.data.customers import customer_sample

    settings = get_settings()
    sample_rows = int(sample_rows or settings.max_fit_rows)
    report = progress or (lambda fraction, message: None)
    key = build_key(wh, sample_rows)
    report(0.7, "precomputing analytics: sample")
    sample = customer_sample(wh, sample_rows)

    report(0.72, "precomputing analytics: survival models")
    model = survival.SurvivalModel("weibull").fit(sample)
    curves = model.weibull_parameters(sample)
    clv = clv_lib.customer_clv(model, sample)  # default assumptions: the revenue page's first view
    curves = curves.join(clv.drop(columns="customer_id"))
    evaluation = survival.evaluate_models(sample)
    results: dict[str, Any] = {EVALUATION: evaluation}
    report(0.78, "precomputing analytics: Kaplan-Meier curves")
    for group in KM_GROUPS:
        if group in sample.columns:
            km, p = survival.kaplan_meier(sample, group)
            results[f"km:{group}"] = {"curves": km, "p_value": p}

    report(0.82, "precomputing analytics: segments")
    everyone, seniors_seg = segments.fit_segmenters(sample)
    seniors = sample[sample["is_senior"]]
    senior_labels = pd.Series(seniors_seg.predict(seniors), index=seniors["customer_id"].to_numpy())
    results[SEGMENTS_ALL] = {"scores": everyone.scores_, "k": everyone.k_}
    results[SEGMENTS_SENIORS] = {"scores": seniors_seg.scores_, "k": seniors_seg.k_}
    report(0.86, "precomputing analytics: factor analysis and PCA map")
    results[FACTORS] = segments.factor_loadings(sample)
    results[PROJECTION] = segments.projection_sample(sample, sample["segment"])
    results[TRAITS] = segments.segment_traits(sample, sample["segment"])

    report(0.9, "precomputing analytics: churn probabilities of the sample")
    proba, model_sha = _sample_probabilities(sample, models_dir or settings.models_dir)
    now = pd.Timestamp(dt.datetime.now(dt.UTC))
    per_customer = curves.assign(
        build_key=key,
        senior_segment=pd.Series(senior_labels.reindex(curves["customer_id"]).to_numpy()).astype("Int64"),
        churn_probability=proba if proba is not None else np.nan,
        model_sha256=model_sha,
    )
    rows = pd.DataFrame(
        {
            "name": list(results),
            "build_key": key,
            "payload": [json.dumps(_encode(v), allow_nan=True) for v in results.values()],
            "computed_at": now,
        }
    )
    report(0.94, "precomputing analytics: writing tables")
    wh.replace_table(CUSTOMERS_TABLE, per_customer)
    wh.replace_table(RESULTS_TABLE, rows)  # written last: its key marks the set complete
    return key


def _sample_probabilities(sample: pd.DataFrame, models_dir) -> tuple[np.ndarray | None, str | None]:
    """Churn probability of each sample customer by the shipped model of the sample's schema."""
    from pathlib import Path

    from churn_core.data.loading import file_sha256
    from churn_core.data.schema import detect_schema
    from churn_core.prediction.training import MODEL_FILE, bundle_dir, load_schema_bundle

    schema = detect_schema(sample.columns)
    path = bundle_dir(Path(models_dir), schema) / MODEL_FILE
    if not path.exists():
        return None, None
    try:
        bundle = load_schema_bundle(schema, Path(models_dir))
    except Exception as exc:  # a refused bundle: the app shows why; the build goes on without probabilities
        _log.warning("no churn probabilities precomputed: %s", exc)
        return None, None
    from churn_core.prediction.features import feature_frame

    proba = bundle.model.predict_proba(feature_frame(sample, bundle.model.features))[:, 1]
    return np.asarray(proba, dtype=float), file_sha256(path)


# -- readers ----------------------------------------------------------------------------------------
def _results(wh: Warehouse, key: str, names: list[str]) -> dict[str, Any] | None:
    if not wh.table_exists(RESULTS_TABLE):
        return None
    df = wh.query(
        "SELECT name, payload FROM {analytics_results} WHERE build_key = @key AND name IN UNNEST(@names)",
        {"key": key, "names": names},
    )
    if len(df) < len(names):
        return None
    return {n: _decode(json.loads(p)) for n, p in df.itertuples(index=False)}


def _customers(wh: Warehouse, key: str, columns: str, where: str = "TRUE") -> pd.DataFrame | None:
    if not wh.table_exists(CUSTOMERS_TABLE):
        return None
    df = wh.query(f"SELECT {columns} FROM {{analytics_customers}} WHERE build_key = @key AND {where}", {"key": key})
    return df if len(df) else None


def stored_survival(wh: Warehouse, sample_rows: int) -> tuple[StoredSurvival, pd.DataFrame, dict] | None:
    """What :func:`churn_core.analytics.clv.fit_on_sample` returns, as stored by the build; None if not current.

    Returns
    -------
    (StoredSurvival, pandas.DataFrame, dict) or None
        The sample's Weibull curves (use like a fitted
        :class:`churn_core.analytics.survival.SurvivalModel` for CLV and the offer simulator), their
        :func:`churn_core.analytics.clv.customer_clv` table at the default assumptions (sample
        order: by ``customer_id``), and :func:`churn_core.analytics.survival.evaluate_models`'s dict.
    """
    key = build_key(wh, sample_rows)
    results = _results(wh, key, [EVALUATION])
    cols = "customer_id, tenure, log_lambda, rho, expected_months, clv_usd, revenue_at_risk_12m_usd"
    rows = None if results is None else _customers(wh, key, cols)
    if rows is None:
        return None
    rows = rows.sort_values("customer_id", ignore_index=True)
    clv = rows[["customer_id", "expected_months", "clv_usd", "revenue_at_risk_12m_usd"]]
    return StoredSurvival(rows), clv, results[EVALUATION]


def stored_kaplan_meier(wh: Warehouse, sample_rows: int, group: str) -> tuple[pd.DataFrame, float] | None:
    """The stored :func:`churn_core.analytics.survival.kaplan_meier` of ``group``, or None if not current."""
    results = _results(wh, build_key(wh, sample_rows), [f"km:{group}"])
    if results is None:
        return None
    doc = results[f"km:{group}"]
    return doc["curves"], float(doc["p_value"])


def stored_segmenters(wh: Warehouse, sample_rows: int):
    """Stored stand-ins of :func:`churn_core.analytics.segments.fit_segmenters` on the sample, or None.

    Returns
    -------
    (StoredSegmenter, StoredSegmenter) or None
        Everyone's (k-selection table and k; no labels) and the seniors' (with each sample
        senior's segment).
    """
    from churn_core.analytics.segments import StoredSegmenter

    key = build_key(wh, sample_rows)
    results = _results(wh, key, [SEGMENTS_ALL, SEGMENTS_SENIORS])
    labels = None if results is None else _customers(wh, key, "customer_id, senior_segment",
                                                      "senior_segment IS NOT NULL")  # fmt: skip
    if results is None or labels is None:
        return None
    every, seniors = results[SEGMENTS_ALL], results[SEGMENTS_SENIORS]
    senior_labels = labels.set_index("customer_id")["senior_segment"].astype("int64")
    return (
        StoredSegmenter(every["scores"], every["k"], pd.Series(dtype="int64")),
        StoredSegmenter(seniors["scores"], seniors["k"], senior_labels),
    )


def stored_result(wh: Warehouse, sample_rows: int, name: str) -> Any | None:
    """One stored result (:data:`FACTORS`, :data:`PROJECTION`, :data:`TRAITS`, …), or None if not current."""
    results = _results(wh, build_key(wh, sample_rows), [name])
    return None if results is None else results[name]


def stored_probabilities(wh: Warehouse, sample_rows: int, model_sha256: str) -> pd.DataFrame | None:
    """``customer_id``, ``churn_probability`` of the sample by the model whose file has ``model_sha256``.

    Returns None when not current or computed with another model.
    """
    key = build_key(wh, sample_rows)
    if _results(wh, key, [EVALUATION]) is None or not wh.table_exists(CUSTOMERS_TABLE):
        return None
    df = wh.query(
        "SELECT customer_id, churn_probability FROM {analytics_customers} "
        "WHERE build_key = @key AND model_sha256 = @sha ORDER BY customer_id",
        {"key": key, "sha": model_sha256},
    )
    return df if len(df) else None
