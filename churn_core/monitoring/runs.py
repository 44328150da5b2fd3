"""Scoring runs: what each run scored, summarised without personal data, in the ``scoring_runs`` table.

Every scoring run (``churn-studio score`` / :func:`churn_core.prediction.batch.score_snapshot`, the
app's batch upload, the API) writes one row of :data:`churn_core.data.tables.SCORING_RUNS`:
time, model version, snapshot date (None for uploads and the API), number of customers, and two
JSON documents:

``feature_summary``
    ``{"features": {name: summary}, "edges_from": "reference" | "run"}`` for every model feature
    the run had (:data:`churn_core.data.schema.EXTENDED_FEATURES`, never an identifier). A numeric
    feature: ``count``, ``missing``, ``mean``, ``std``, ``quantiles`` (:data:`QUANTILES`) and
    ``hist`` — counts on the fixed bins ``edges`` (interior edges; bin *i* holds
    ``edges[i-1] < x <= edges[i]``, the outer bins are open), the reference data's deciles
    (:func:`churn_core.monitoring.drift.reference_bins`), so that drift compares like with like.
    A categorical feature: ``count``, ``missing`` and ``counts`` per value (at most
    :data:`MAX_CATEGORIES`; the rest is counted under ``"__other__"``).
``score_summary``
    ``count``, ``mean``, ``std``, ``quantiles`` and ``hist``: counts on the 10 equal bins of
    :data:`SCORE_EDGES` (probability 0-1).

A batch run that streams chunks adds each chunk to one :class:`RunSummary`; quantiles then come
from a bounded, evenly spread subsample (at most ``sample_rows`` values per feature).

The API logs in batches (:class:`RunBuffer`): a request only appends its rows to an in-process
buffer (bounded), written as one run when it holds ``api_log_flush_rows`` customers, is
``api_log_flush_seconds`` old, or the API stops.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import pandas as pd

from churn_core.data.schema import COLUMN_BY_NAME, EXTENDED_FEATURES
from churn_core.data.tables import SCORING_RUNS
from churn_core.data.warehouse import Warehouse

_log = logging.getLogger(__name__)

#: Where a scoring run came from.
SOURCES: tuple[str, ...] = ("command", "app", "api")
#: Quantiles kept for numeric features and scores.
QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
#: Bin edges of the score histogram: 10 equal bins of the churn probability (0-1).
SCORE_EDGES: tuple[float, ...] = tuple(round(i / 10, 1) for i in range(11))
#: Most distinct values counted per categorical feature (declared categories are far fewer).
MAX_CATEGORIES = 50
OTHER = "__other__"
_VERSION = re.compile(r"^\d{8}-[0-9a-f]{8}$")  # a registry version


def feature_kinds(columns: Iterable[str]) -> dict[str, str]:
    """Monitored model features among ``columns``, with their kind (``"numeric"`` or ``"categorical"``).

    Parameters
    ----------
    columns : iterable of str
        Warehouse column names of a frame (identifiers and non-features are ignored).

    Returns
    -------
    dict of str to str
        In :data:`churn_core.data.schema.EXTENDED_FEATURES` order.
    """
    have = set(columns)
    kinds = {}
    for name in EXTENDED_FEATURES:
        if name in have:
            spec = COLUMN_BY_NAME.get(name)
            kinds[name] = "categorical" if spec is not None and spec.kind == "category" else "numeric"
    return kinds


def histogram(values: np.ndarray, edges: Iterable[float]) -> np.ndarray:
    """Counts of ``values`` in the bins of interior ``edges`` (right-closed; outer bins open).

    Returns
    -------
    numpy.ndarray of shape (len(edges) + 1,)
    """
    edges = np.asarray(list(edges), dtype=float)
    index = np.searchsorted(edges, values, side="left")
    return np.bincount(index, minlength=len(edges) + 1)


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


class RunSummary:
    """Per-feature and score summaries of one scoring run, built chunk by chunk (bounded memory).

    Parameters
    ----------
    bins : mapping of str to sequence of float, optional
        Interior bin edges per numeric feature (the reference's, see the module docstring); a
        feature without edges gets its own deciles from its first chunk (``edges_from = "run"``).
    expected_rows : int, optional
        Rows the run will add in total; quantiles then use an even subsample of the chunks.
    sample_rows : int
        Most values kept per feature for quantiles.
    """

    def __init__(self, bins: Mapping[str, Iterable[float]] | None = None, expected_rows: int | None = None,
                 sample_rows: int = 100_000) -> None:  # fmt: skip
        self.bins = {k: [float(e) for e in v] for k, v in (bins or {}).items()}
        self.edges_from = "reference" if bins else "run"
        self.fraction = 1.0 if not expected_rows else min(1.0, sample_rows / max(1, expected_rows))
        self.sample_rows = sample_rows
        self.n_rows = 0
        self._num: dict[str, dict[str, Any]] = {}
        self._cat: dict[str, dict[str, Any]] = {}
        self._scores: dict[str, Any] = {"n": 0, "sum": 0.0, "sumsq": 0.0, "hist": np.zeros(10, int), "sample": []}

    def _sample(self, values: np.ndarray, kept: list[np.ndarray]) -> None:
        have = sum(len(k) for k in kept)
        if have >= self.sample_rows or not len(values):
            return
        step = max(1, round(1 / self.fraction))
        kept.append(values[::step][: self.sample_rows - have])

    def add(self, features: pd.DataFrame, probabilities: np.ndarray) -> None:
        """Add one chunk: its model features (any other columns are ignored) and its churn probabilities.

        Raises
        ------
        ValueError
            If ``probabilities`` has another length than ``features`` or values outside [0, 1].
        """
        p = np.asarray(probabilities, dtype=float).ravel()
        if len(p) != len(features):
            raise ValueError(f"{len(p)} probabilities for {len(features)} rows")
        if len(p) and (np.isnan(p).any() or p.min() < 0 or p.max() > 1):
            raise ValueError("probabilities must lie in [0, 1]")
        self.n_rows += len(p)
        for name, kind in feature_kinds(features.columns).items():
            if kind == "numeric":
                self._add_numeric(name, _numbers(features[name]))
            else:
                self._add_categorical(name, features[name])
        s = self._scores
        s["n"] += len(p)
        s["sum"] += float(p.sum())
        s["sumsq"] += float((p * p).sum())
        s["hist"] += histogram(p, SCORE_EDGES[1:-1])
        self._sample(p, s["sample"])

    def _add_numeric(self, name: str, values: np.ndarray) -> None:
        ok = values[~np.isnan(values)]
        entry = self._num.get(name)
        if entry is None:
            edges = self.bins.get(name)
            if edges is None:
                edges = np.unique(np.quantile(ok, np.linspace(0.1, 0.9, 9))).tolist() if len(ok) else []
                self.edges_from = "run"
            entry = self._num[name] = {"n": 0, "missing": 0, "sum": 0.0, "sumsq": 0.0, "edges": list(edges),
                                       "hist": np.zeros(len(edges) + 1, int), "sample": []}  # fmt: skip
        entry["n"] += len(ok)
        entry["missing"] += len(values) - len(ok)
        entry["sum"] += float(ok.sum())
        entry["sumsq"] += float((ok * ok).sum())
        entry["hist"] += histogram(ok, entry["edges"])
        self._sample(ok, entry["sample"])

    def _add_categorical(self, name: str, values: pd.Series) -> None:
        entry = self._cat.setdefault(name, {"n": 0, "missing": 0, "counts": {}})
        missing = int(values.isna().sum())
        entry["missing"] += missing
        entry["n"] += len(values) - missing
        counts = entry["counts"]
        for value, n in values.dropna().astype(str).value_counts().items():
            key = value if value in counts or len(counts) < MAX_CATEGORIES else OTHER
            counts[key] = counts.get(key, 0) + int(n)

    @staticmethod
    def _moments(n: int, total: float, sumsq: float) -> tuple[float | None, float | None]:
        if n == 0:
            return None, None
        mean = total / n
        var = max(0.0, (sumsq - n * mean * mean) / (n - 1)) if n > 1 else 0.0
        return mean, math.sqrt(var)

    @staticmethod
    def _quantiles(kept: list[np.ndarray]) -> dict[str, float]:
        values = np.concatenate(kept) if kept else np.empty(0)
        if not len(values):
            return {}
        return {str(q): float(v) for q, v in zip(QUANTILES, np.quantile(values, QUANTILES), strict=True)}

    def feature_summary(self) -> dict[str, Any]:
        """The ``feature_summary`` document (see the module docstring)."""
        features: dict[str, Any] = {}
        for name, e in self._num.items():
            mean, std = self._moments(e["n"], e["sum"], e["sumsq"])
            features[name] = {"kind": "numeric", "count": e["n"], "missing": e["missing"], "mean": mean, "std": std,
                              "quantiles": self._quantiles(e["sample"]), "edges": e["edges"],
                              "hist": e["hist"].tolist()}  # fmt: skip
        for name, e in self._cat.items():
            features[name] = {"kind": "categorical", "count": e["n"], "missing": e["missing"], "counts": e["counts"]}
        return {"features": features, "edges_from": self.edges_from}

    def score_summary(self) -> dict[str, Any]:
        """The ``score_summary`` document (see the module docstring)."""
        s = self._scores
        mean, std = self._moments(s["n"], s["sum"], s["sumsq"])
        return {"count": s["n"], "mean": mean, "std": std, "quantiles": self._quantiles(s["sample"]),
                "edges": list(SCORE_EDGES), "hist": s["hist"].tolist()}  # fmt: skip


def new_run_id() -> str:
    """A new scoring-run id (12 hex characters)."""
    return uuid.uuid4().hex[:12]


def write_run(
    wh: Warehouse,
    summary: RunSummary,
    *,
    source: str,
    model_version: str,
    snapshot_date: dt.date | None,
    run_id: str | None = None,
    scored_at: dt.datetime | None = None,
) -> str:
    """Write ``summary`` as one row of ``scoring_runs``.

    Returns
    -------
    str
        The run id.

    Raises
    ------
    ValueError
        If ``source`` is not one of :data:`SOURCES`.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    run_id = run_id or new_run_id()
    row = {
        "run_id": run_id, "source": source, "model_version": str(model_version),
        "snapshot_date": snapshot_date, "scored_at": scored_at or dt.datetime.now(dt.UTC),
        "n_rows": summary.n_rows, "feature_summary": json.dumps(summary.feature_summary(), allow_nan=False),
        "score_summary": json.dumps(summary.score_summary(), allow_nan=False),
    }  # fmt: skip
    wh.append_rows(SCORING_RUNS.name, pd.DataFrame([row], columns=SCORING_RUNS.names))
    return run_id


def run_bins(wh: Warehouse, settings=None) -> dict[str, list[float]]:
    """The fixed reference bins for a run's summary; empty (the run's own deciles) when there is no reference."""
    from churn_core.monitoring.drift import reference_bins

    try:
        return reference_bins(wh, settings)
    except Exception as exc:  # no customers table, another schema: the run still gets logged
        _log.warning("no reference bins for the scoring-run summary (%s: %s)", type(exc).__name__, exc)
        return {}


def log_scoring_run(
    wh: Warehouse,
    *,
    source: str,
    model_version: str,
    snapshot_date: dt.date | None,
    features: pd.DataFrame,
    probabilities: np.ndarray,
    run_id: str | None = None,
    settings=None,
) -> str:
    """Summarise one scoring run and write it to ``scoring_runs`` (see the module docstring).

    Parameters
    ----------
    wh : Warehouse
        Where ``scoring_runs`` lives; also where the reference bins come from.
    source : {"command", "app", "api"}
        What scored.
    model_version : str
        The champion's version (or the model file's short SHA-256, :func:`model_version_of`).
    snapshot_date : datetime.date or None
        The snapshot scored; None for an upload or API requests.
    features : pandas.DataFrame of shape (n_rows, n_columns)
        The scored customers (warehouse names); only model features are summarised, never IDs.
    probabilities : numpy.ndarray of shape (n_rows,)
        Churn probabilities (0-1) in the order of ``features``.
    run_id : str, optional
        Id of the run (a batch run passes the id of its ``scores`` rows); new if omitted.
    settings : Settings, optional
        For the reference (the registry's champion).

    Returns
    -------
    str
        The run id.

    Raises
    ------
    ValueError
        If lengths differ, a probability lies outside [0, 1], or ``source`` is unknown.
    """
    summary = RunSummary(run_bins(wh, settings))
    summary.add(features, probabilities)
    return write_run(wh, summary, source=source, model_version=model_version, snapshot_date=snapshot_date,
                     run_id=run_id)  # fmt: skip


def model_version_of(model_sha256: str, settings=None, schema: str = "extended") -> str:
    """The version logged for a model: the registry's champion version when it is this model, else the short hash.

    ``model_sha256`` may also be a registry version already (``YYYYMMDD-<8 hex>``): it is returned as is.

    The champion's version ends with the first 8 hex of its model file's SHA-256;
    without a registry (or when the served model is not the champion) the first 12 hex of
    ``model_sha256`` are used.
    """
    if _VERSION.match(model_sha256 or ""):  # already a registry version
        return model_sha256
    from churn_core.prediction.registry import champion_version

    try:
        version = champion_version(settings, schema)
        if version and model_sha256 and str(version).endswith(model_sha256[:8]):
            return str(version)
    except (OSError, ValueError, KeyError):  # no champion: the hash names the model
        pass
    return model_sha256[:12] if model_sha256 else "unknown"


def has_scoring_run(wh: Warehouse, snapshot_date: dt.date | None) -> bool:
    """True if a scoring run of ``snapshot_date`` is logged (None: a run of an upload or the API)."""
    if not wh.table_exists(SCORING_RUNS.name):
        return False
    if snapshot_date is None:
        sql = "SELECT COUNT(*) AS n FROM {scoring_runs} WHERE snapshot_date IS NULL"
        return bool(wh.query(sql)["n"].iloc[0])
    sql = "SELECT COUNT(*) AS n FROM {scoring_runs} WHERE snapshot_date = @d"
    return bool(wh.query(sql, {"d": _as_date(snapshot_date)})["n"].iloc[0])


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else pd.Timestamp(value).date()


def scoring_runs(wh: Warehouse, limit: int = 500) -> pd.DataFrame:
    """The newest ``limit`` scoring runs, oldest first, with their JSON documents parsed.

    Returns
    -------
    pandas.DataFrame
        Columns of ``scoring_runs``; ``feature_summary`` and ``score_summary`` as dicts. Empty
        (with those columns) when nothing was logged.
    """
    if not wh.table_exists(SCORING_RUNS.name):
        return pd.DataFrame(columns=SCORING_RUNS.names)
    runs = wh.query("SELECT * FROM {scoring_runs} ORDER BY scored_at DESC LIMIT @n", {"n": int(limit)})
    runs = runs.iloc[::-1].reset_index(drop=True)
    runs["snapshot_date"] = [None if pd.isna(d) else _as_date(d) for d in runs["snapshot_date"]]
    for col in ("feature_summary", "score_summary"):
        runs[col] = [json.loads(v) if isinstance(v, str) and v else {} for v in runs[col]]
    return runs


WarehouseFactory = Callable[[], AbstractContextManager[Warehouse]]


class RunBuffer:
    """In-process buffer of scored rows, written to ``scoring_runs`` in batches (the API's logging).

    A request calls :meth:`add` (appends under a lock: microseconds); a daemon thread writes the
    buffer as one run per model version when it holds ``flush_rows`` rows or its oldest row is
    ``flush_seconds`` old; :meth:`close` writes what is left. The buffer is bounded: beyond
    ``max_rows`` (a warehouse that keeps failing) the oldest requests are dropped and counted
    in :attr:`dropped` (logged).

    Parameters
    ----------
    open_warehouse : callable() -> context manager of Warehouse
        Opens the warehouse for one write (standalone DuckDB holds the file only that long).
    source : str
        ``"api"``.
    flush_rows, flush_seconds : int, float
        When to write (see above).
    max_rows : int, optional
        Bound of the buffer (default ``10 × flush_rows``).
    settings : Settings, optional
        Passed to the reference bins.
    start : bool
        Start the flushing thread (tests drive :meth:`flush` themselves with False).
    """

    def __init__(self, open_warehouse: WarehouseFactory, source: str = "api", flush_rows: int = 500,
                 flush_seconds: float = 30.0, max_rows: int | None = None, settings=None,
                 start: bool = True) -> None:  # fmt: skip
        self._open, self.source, self.settings = open_warehouse, source, settings
        self.flush_rows, self.flush_seconds = int(flush_rows), float(flush_seconds)
        self.max_rows = int(max_rows or 10 * flush_rows)
        self._items: list[tuple[str, pd.DataFrame, np.ndarray]] = []
        self._rows, self._oldest = 0, None
        self._lock, self._write_lock = threading.Lock(), threading.Lock()
        self._wake, self._stop = threading.Event(), threading.Event()
        self.dropped = 0
        self.runs_written = 0
        self._thread: threading.Thread | None = None
        if start:
            self._thread = threading.Thread(target=self._loop, name="scoring-run-log", daemon=True)
            self._thread.start()

    @property
    def pending_rows(self) -> int:
        """Rows waiting to be written."""
        return self._rows

    def add(self, model_version: str, features: pd.DataFrame, probabilities: np.ndarray) -> None:
        """Queue one request's scored rows (no I/O here)."""
        p = np.asarray(probabilities, dtype=float).ravel()
        with self._lock:
            self._items.append((model_version, features, p))
            self._rows += len(p)
            self._oldest = self._oldest or time.monotonic()
            while self._rows > self.max_rows and len(self._items) > 1:
                _, _, gone = self._items.pop(0)
                self._rows -= len(gone)
                self.dropped += len(gone)
            full = self._rows >= self.flush_rows
        if full:
            self._wake.set()

    def due(self) -> bool:
        """True when the buffer should be written (by rows or by age)."""
        with self._lock:
            old = self._oldest is not None and time.monotonic() - self._oldest >= self.flush_seconds
            return self._rows >= self.flush_rows or old

    def flush(self) -> list[str]:
        """Write every buffered row now, one run per model version; returns the run ids.

        A failed write keeps nothing (the rows are logged as lost with the error), so a broken
        warehouse never grows the buffer.
        """
        with self._lock:
            items, self._items, self._rows, self._oldest = self._items, [], 0, None
        if not items:
            return []
        ids = []
        with self._write_lock:
            by_version: dict[str, list[tuple[pd.DataFrame, np.ndarray]]] = {}
            for version, frame, p in items:
                by_version.setdefault(version, []).append((frame, p))
            try:
                with self._open() as wh:
                    bins = run_bins(wh, self.settings)
                    for version, parts in by_version.items():
                        summary = RunSummary(bins)  # one summary of all the requests: concatenated first
                        summary.add(pd.concat([f for f, _ in parts], ignore_index=True),
                                    np.concatenate([p for _, p in parts]))  # fmt: skip
                        ids.append(write_run(wh, summary, source=self.source, model_version=version,
                                             snapshot_date=None))  # fmt: skip
            except Exception:
                lost = sum(len(p) for _, _, p in items)
                _log.exception("could not write %d scored rows to scoring_runs", lost)
                self.dropped += lost
                return ids
        self.runs_written += len(ids)
        return ids

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=min(self.flush_seconds, 5.0))
            self._wake.clear()
            if self.due():
                self.flush()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread (waiting at most ``timeout`` seconds) and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.flush()
