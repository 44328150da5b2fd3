"""Batch scoring of the whole warehouse, streamed in chunks and written back.

``churn-studio score`` reads the ``customers`` table chunk by chunk
(:meth:`churn_core.data.warehouse.Warehouse.iter_batches`), scores each chunk with the churn
ensemble and the Weibull AFT CLV model, and appends the result to the ``scores`` table,
so peak memory depends on the chunk size, not on the number of customers. A run is
recorded in ``model_runs`` (status ``done`` or ``failed`` with the error); rows of older
runs are deleted after a successful run. Dashboards (Looker Studio, as in the original
project) and the app's outreach audience read ``scores`` from the warehouse.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import pandas as pd

from churn_core.analytics.clv import customer_clv
from churn_core.analytics.survival import SurvivalModel
from churn_core.data.customers import customer_count, customer_sample
from churn_core.data.tables import SCORES
from churn_core.data.warehouse import Warehouse, record_run
from churn_core.prediction.business import Economics
from churn_core.prediction.ensemble import ChurnEnsemble
from churn_core.prediction.scoring import score_frame

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
) -> dict[str, Any]:
    """Score every customer of ``wh`` into the ``scores`` table.

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

    Returns
    -------
    dict
        ``run_id``, ``n_rows``, ``seconds``, ``customers_per_second``, ``status``.

    Raises
    ------
    Exception
        Whatever the backend or model raised; the run is recorded as ``failed`` first.
    """
    economics = economics or Economics.from_settings()
    run_id = uuid.uuid4().hex[:12]
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    total = customer_count(wh)
    clv_model = SurvivalModel("weibull").fit(customer_sample(wh, fit_rows))
    done, status, error = 0, "done", ""
    try:
        chunks = wh.iter_batches("SELECT * FROM {customers}", batch_size=chunk_rows)
        for i, chunk in enumerate(chunks):
            if max_chunks is not None and i >= max_chunks:
                status = "partial"
                break
            wh.append_rows(SCORES.name, score_chunk(model, clv_model, chunk, economics, run_id))
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
    if status == "done":
        wh.execute("DELETE FROM {scores} WHERE run_id != @run_id", {"run_id": run_id})
    return {
        "run_id": run_id,
        "n_rows": done,
        "seconds": seconds,
        "customers_per_second": done / seconds if seconds else float("nan"),
        "status": status,
    }


def score_chunk(
    model: ChurnEnsemble, clv_model: SurvivalModel, chunk: pd.DataFrame, economics: Economics, run_id: str
) -> pd.DataFrame:
    """Rows of the ``scores`` table for one chunk of customers: churn scores plus CLV (USD).

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_score_columns)
        Columns of :data:`churn_core.data.tables.SCORES`, in order.
    """
    scored = score_frame(model, chunk, economics)
    # lifelines' survival curves need far more memory per row than the ensemble: sub-chunks
    clv = pd.concat([customer_clv(clv_model, chunk.iloc[i : i + CLV_ROWS]) for i in range(0, len(chunk), CLV_ROWS)])
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
