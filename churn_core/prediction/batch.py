"""Batch scoring of the whole warehouse, streamed in chunks and written back.

``churn-studio score`` reads the ``customers`` table chunk by chunk
(:meth:`churn_core.data.warehouse.Warehouse.iter_batches`), scores each chunk with the churn
ensemble and the Weibull AFT CLV model, and appends the result to the ``scores`` table,
so peak memory depends on the chunk size, not on the number of customers. A run is
recorded in ``model_runs`` (status ``done`` or ``failed`` with the error) and, with a summary of
its features and scores, in ``scoring_runs`` (:func:`churn_core.monitoring.runs.log_scoring_run`,
issue #14). After a successful run the rows of older runs **of the same snapshot** are deleted;
scores of other snapshots are kept, because realised performance
(:mod:`churn_core.monitoring.performance`) compares an earlier snapshot's scores with the
outcomes seen later. Dashboards (Looker Studio, as in the original project) and the app's
outreach audience read ``scores`` from the warehouse.

:func:`score_snapshot` scores one dated snapshot (``wh.at(date)``) with the registry's champion.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import pandas as pd

from churn_core.analytics.survival import SurvivalModel
from churn_core.data.customers import customer_count, customer_sample
from churn_core.data.tables import SCORES
from churn_core.data.warehouse import Warehouse, record_run
from churn_core.prediction.business import Economics
from churn_core.prediction.ensemble import ChurnEnsemble
from churn_core.prediction.scoring import score_with_clv

_log = logging.getLogger(__name__)
ProgressFn = Callable[[int, int], None]
CLV_ROWS = 20_000  # rows per CLV computation inside a chunk


def score_warehouse(
    wh: Warehouse,
    model: ChurnEnsemble,
    model_sha256: str,
    economics: Economics | None = None,
    chunk_rows: int = 100_000,
    fit_rows: int = 20_000,
    progress: ProgressFn | None = None,
    max_chunks: int | None = None,
    *,
    snapshot_date: dt.date | None = None,
    model_version: str | None = None,
    settings=None,
) -> dict[str, Any]:
    """Score every customer of ``wh`` into the ``scores`` table and log the run in ``scoring_runs``.

    Parameters
    ----------
    wh : Warehouse
        DuckDB or BigQuery warehouse with a built ``customers`` table.
    model : ChurnEnsemble
        The fitted churn ensemble.
    model_sha256 : str
        Hash of the model file, stored with the run.
    economics : Economics, optional
        Offer assumptions for ``expected_profit_usd``.
    chunk_rows : int
        Customers per chunk (bounds peak memory).
    fit_rows : int
        Customers sampled to fit the Weibull AFT model behind ``clv_usd``.
    progress : callable(rows_done, rows_total), optional
        Called after every chunk.
    max_chunks : int, optional
        Stop after this many chunks (benchmarks); the run is then recorded as ``partial``.
    snapshot_date : datetime.date, optional
        The snapshot ``wh`` holds (default: ``wh.snapshot_date`` of a snapshot view, else the
        latest registered snapshot, else None). Only older runs of this snapshot are deleted.
    model_version : str, optional
        Version logged in ``scoring_runs`` (default: :func:`churn_core.monitoring.runs.model_version_of`).
    settings : Settings, optional
        For the reference bins of the run's summary.

    Returns
    -------
    dict
        ``run_id``, ``n_rows``, ``seconds``, ``customers_per_second``, ``status``, ``snapshot_date``,
        ``model_version``.

    Raises
    ------
    Exception
        Whatever the backend or model raised; the run is recorded as ``failed`` first.
    """
    economics = economics or Economics.from_settings()
    run_id = uuid.uuid4().hex[:12]
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    from churn_core.monitoring.runs import RunSummary, model_version_of, run_bins, write_run

    total = customer_count(wh)
    snapshot_date = snapshot_date if snapshot_date is not None else _snapshot_of(wh)
    summary = RunSummary(run_bins(wh, settings), expected_rows=total)
    clv_model = SurvivalModel("weibull").fit(customer_sample(wh, fit_rows))
    done, status, error = 0, "done", ""
    try:
        chunks = wh.iter_batches("SELECT * FROM {customers}", batch_size=chunk_rows)
        for i, chunk in enumerate(chunks):
            if max_chunks is not None and i >= max_chunks:
                status = "partial"
                break
            rows = score_chunk(model, clv_model, chunk, economics, run_id)
            wh.append_rows(SCORES.name, rows)
            summary.add(chunk, rows["churn_probability"].to_numpy())
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    except Exception as exc:
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        seconds = time.perf_counter() - t0
        _record(
            wh,
            run_id,
            model_sha256,
            started,
            done,
            status,
            {"chunk_rows": chunk_rows, "seconds": seconds, "error": error},
        )
    model_version = model_version or model_version_of(model_sha256, settings, _schema_of(wh))
    try:
        write_run(wh, summary, source="command", model_version=model_version, snapshot_date=snapshot_date,
                  run_id=run_id)  # fmt: skip
    except Exception:  # the scores are written; a lost summary must not lose them
        _log.exception("scoring run %s: could not write its summary to scoring_runs", run_id)
    if status == "done":
        _delete_older_runs(wh, run_id, snapshot_date)
    return {
        "run_id": run_id,
        "n_rows": done,
        "seconds": seconds,
        "customers_per_second": done / seconds if seconds else float("nan"),
        "status": status,
        "snapshot_date": snapshot_date,
        "model_version": model_version,
    }


def _delete_older_runs(wh: Warehouse, run_id: str, snapshot_date: dt.date | None) -> None:
    """Delete ``scores`` rows of runs other than ``run_id`` of the same snapshot (runs logged without a
    snapshot date, and older rows never logged in ``scoring_runs``, count as the same snapshot)."""
    if snapshot_date is None:
        other = "SELECT run_id FROM {scoring_runs} WHERE snapshot_date IS NOT NULL"
        params: dict[str, Any] = {"run_id": run_id}
    else:
        other = "SELECT run_id FROM {scoring_runs} WHERE snapshot_date IS NOT NULL AND snapshot_date != @d"
        params = {"run_id": run_id, "d": snapshot_date}
    wh.execute(f"DELETE FROM {{scores}} WHERE run_id != @run_id AND run_id NOT IN ({other})", params)


def _snapshot_of(wh: Warehouse) -> dt.date | None:
    """The snapshot ``wh`` holds: a view's date, else the latest registered snapshot, else None."""
    own = getattr(wh, "snapshot_date", None)
    if isinstance(own, dt.date):
        return own
    from churn_core.data.snapshots import latest_snapshot_date

    return latest_snapshot_date(wh)


def _schema_of(wh: Warehouse) -> str:
    from churn_core.data.customers import customer_columns
    from churn_core.data.schema import detect_schema

    try:
        return detect_schema(customer_columns(wh))
    except Exception:
        return "extended"


def champion_model(settings=None, schema: str = "extended") -> tuple[ChurnEnsemble, str, str]:
    """The model that scores: the registry's champion (:func:`churn_core.prediction.registry.load_champion`).

    Returns
    -------
    (ChurnEnsemble, str, str)
        The model, its version (the champion's, or the short SHA-256 of the model file) and the
        model file's SHA-256.

    Raises
    ------
    FileNotFoundError, ModelFileError, ValueError
        When no model can be loaded (missing, changed or untrusted files).
    """
    from churn_core.config import get_settings
    from churn_core.data.loading import file_sha256
    from churn_core.prediction.registry import champion_dir, load_champion
    from churn_core.prediction.training import MODEL_FILE

    settings = settings or get_settings()
    bundle, version = load_champion(settings, schema)
    return bundle.model, version, file_sha256(champion_dir(settings, schema) / MODEL_FILE)


def score_snapshot(
    wh: Warehouse, snapshot_date: dt.date | None, settings=None, progress: ProgressFn | None = None
) -> dict[str, Any]:
    """Score the customers of one snapshot with the champion and log the run with that snapshot's date.

    Parameters
    ----------
    wh : Warehouse
        The warehouse (its ``at(snapshot_date)`` view is scored).
    snapshot_date : datetime.date or None
        A registered snapshot; None scores ``customers`` (the latest snapshot) and logs the latest
        snapshot's date (None without snapshots).
    settings : Settings, optional
        Chunk size, CLV sample size, offer economics, the registry.
    progress : callable(rows_done, rows_total), optional
        Called after every chunk.

    Returns
    -------
    dict
        As :func:`score_warehouse`.

    Raises
    ------
    KeyError
        If no snapshot has that date.
    FileNotFoundError, ModelFileError, ValueError
        When no champion can be loaded.
    """
    from churn_core.config import get_settings

    settings = settings or get_settings()
    at = getattr(wh, "at", None)
    target = at(snapshot_date) if (at is not None and snapshot_date is not None) else wh
    day = snapshot_date if snapshot_date is not None else _snapshot_of(wh)
    model, version, sha = champion_model(settings, _schema_of(target))
    return score_warehouse(
        target, model, sha, Economics.from_settings(settings), settings.score_chunk_rows, settings.max_fit_rows,
        progress=progress, snapshot_date=day, model_version=version, settings=settings,
    )  # fmt: skip


def score_chunk(
    model: ChurnEnsemble, clv_model: SurvivalModel, chunk: pd.DataFrame, economics: Economics, run_id: str
) -> pd.DataFrame:
    """Rows of the ``scores`` table for one chunk of customers: churn scores plus CLV (USD).

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_score_columns)
        Columns of :data:`churn_core.data.tables.SCORES`, in order.
    """
    # compiled ensemble when given one (prediction.compiled), closed-form Weibull CLV (scoring.score_with_clv)
    scored, clv = score_with_clv(model, clv_model, chunk, economics, CLV_ROWS)
    out = scored.drop(columns=["contact", "monthly_charges"]).assign(
        run_id=run_id,
        clv_usd=clv["clv_usd"].to_numpy(),
        revenue_at_risk_12m_usd=clv["revenue_at_risk_12m_usd"].to_numpy(),
        scored_at=dt.datetime.now(dt.UTC),
    )
    return out[SCORES.names]


def _record(
    wh: Warehouse, run_id: str, model_sha256: str, started: dt.datetime, done: int, status: str, details: dict
) -> None:
    record_run(
        wh,
        {
            "run_id": run_id, "kind": "score", "model_sha256": model_sha256, "backend": wh.backend,
            "started_at": started, "finished_at": dt.datetime.now(dt.UTC), "n_rows": done,
            "status": status, "details": details,
        },
    )  # fmt: skip


def latest_run(wh: Warehouse, model_sha256: str | None = None) -> dict[str, Any] | None:
    """The newest completed scoring run (for this model, if given), or None."""
    sql = "SELECT * FROM {model_runs} WHERE kind = 'score' AND status = 'done'"
    params: dict[str, Any] = {}
    if model_sha256:
        sql += " AND model_sha256 = @sha"
        params["sha"] = model_sha256
    runs = wh.query(sql + " ORDER BY finished_at DESC LIMIT 1", params)
    return None if runs.empty else runs.iloc[0].to_dict()
