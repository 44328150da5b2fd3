"""Synthetic customers: bootstrapped tables for load tests, and a synthetic next month for demonstrations.

**Load tests** (:func:`grow`, :func:`load_synthetic`): rows are bootstrapped (sampled with
replacement) from the validated customers, so the joint distribution of categories is kept;
numeric money and usage fields get a small multiplicative jitter (default ±5 %), and every row
gets a fresh ``SYN-…`` customer ID so nobody can mistake a synthetic customer for a real one.
Derived totals are recomputed from tenure × monthly charges where the IBM data ties them together.

**Synthetic next month** (:func:`next_month_features`, :func:`draw_churn`; the command
``churn-studio snapshot synthesize``): the IBM sample has one quarter and no history, so a
second month for demonstrating snapshots, outcomes, drift and retraining is generated:

* only the customers who stayed (``churn != "Yes"``) carry over, with IDs ``SYN-<lineage id>``
  (:func:`churn_core.data.snapshots.lineage_id`), one more month of tenure, and total charges
  (and total long-distance charges, total revenue) grown by one month of charges;
* churn in the new month is drawn from the churn model's probabilities (the caller passes them;
  this module imports no model);
* optional **drift** (:data:`DRIFT`): 30 % of DSL customers move to fibre optic (their monthly
  charges scaled by the ratio of the mean fibre to the mean DSL charge), then every fibre
  customer's monthly charges rise 15 % (before the month's charges are added to the totals).
* the leakage columns of the extended schema (``Churn Score``, ``Churn Score.1``, ``CLTV``,
  ``Satisfaction Score``, ``Churn Category``, ``Churn Reason``, ``Customer Status``) are
  **synthetic**: filled plausibly from the drawn churn (ranges and categories as in the IBM
  sample) so the file validates, never measured and never used by a model
  (:data:`churn_core.data.schema.LEAKAGE_COLUMNS`). Every such snapshot is marked synthetic in
  the ``snapshots`` table and labelled on every page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from churn_core.data.loading import add_derived_columns
from churn_core.data.schema import COLUMN_BY_NAME, RAW_COLUMNS, RENAME
from churn_core.data.warehouse import SCHEMA_VERSION, Warehouse

_JITTER = ("monthly_charges", "avg_monthly_long_distance_charges", "avg_monthly_gb_download", "total_refunds")


def grow(customers: pd.DataFrame, n: int, seed: int = 0, jitter: float = 0.05, start: int = 0) -> pd.DataFrame:
    """Bootstrap ``n`` synthetic customers from validated ``customers``.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_real, n_columns)
        Validated customers, warehouse column names.
    n : int
        Rows to generate.
    seed : int
        Seed of the generator (same seed, same rows).
    jitter : float
        Relative half-width of the uniform noise applied to money/usage fields.
    start : int
        Number of the first generated ID (chunks of one large table use disjoint ranges).

    Returns
    -------
    pandas.DataFrame of shape (n, n_columns)
        Same columns and dtypes; ``customer_id`` is ``SYN-0000000`` style.
    """
    rng = np.random.default_rng(seed)
    out = customers.iloc[rng.integers(0, len(customers), n)].reset_index(drop=True).copy()
    for col in _JITTER:
        noise = rng.uniform(1 - jitter, 1 + jitter, n)
        values = out[col].to_numpy(dtype=float) * noise
        out[col] = np.round(values, 2) if COLUMN_BY_NAME[col].kind == "float" else np.rint(values).astype("int64")
    out["total_charges"] = np.round(out["tenure"] * out["monthly_charges"], 2)
    out["total_long_distance_charges"] = np.round(out["tenure"] * out["avg_monthly_long_distance_charges"], 2)
    out["total_revenue"] = np.round(
        out["total_charges"]
        + out["total_extra_data_charges"]
        + out["total_long_distance_charges"]
        - out["total_refunds"],
        2,
    )
    out["customer_id"] = [f"SYN-{i:08d}" for i in range(start, start + n)]
    return out


def load_synthetic(
    wh: Warehouse,
    customers: pd.DataFrame,
    n: int,
    seed: int = 0,
    chunk_rows: int = 500_000,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Fill ``wh``'s ``customers`` table with ``n`` synthetic customers, chunk by chunk.

    Memory stays bounded by ``chunk_rows``. The warehouse metadata is marked ``pinned``
    so that it is never rebuilt from the raw file (benchmarks and load tests only).

    Parameters
    ----------
    customers : pandas.DataFrame
        Real validated customers with ``segment`` (the warehouse's own table).
    """
    done = 0
    for i, start in enumerate(range(0, n, chunk_rows)):
        size = min(chunk_rows, n - start)
        chunk = grow(customers, size, seed=seed + i, start=start)
        (wh.replace_table if i == 0 else wh.append_rows)("customers", chunk)
        done += size
        if progress is not None:
            progress(done, n)
    meta = {
        "raw_sha256": "synthetic", "raw_file": f"synthetic from {wh.raw_csv.name}", "schema_version": SCHEMA_VERSION,
        "n_customers": str(n), "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "pinned": "true",
    }  # fmt: skip
    wh.replace_table("_meta", pd.DataFrame(list(meta.items()), columns=["key", "value"]))
    wh.ensure_tables()


def to_raw_csv(customers: pd.DataFrame) -> pd.DataFrame:
    """Rename warehouse columns back to the raw IBM names (for writing a CSV to upload)."""
    inverse = {v: k for k, v in RENAME.items()}
    raw = customers[[c for c in customers.columns if c in inverse]].rename(columns=inverse)
    return raw


# -- synthetic next month (issue #14) ---------------------------------------------------------------
#: The documented drift of ``--drift``: share of DSL customers who move to fibre optic, and the
#: relative rise of every fibre customer's monthly charges.
DRIFT: dict[str, float] = {"dsl_to_fibre_share": 0.30, "fibre_charge_increase": 0.15}
#: Text stored in ``snapshots.drift`` for a drifted synthetic snapshot.
DRIFT_TEXT = "30% of DSL customers moved to Fiber optic; Fiber optic monthly charges +15%"
#: Synthetic churn categories and reasons (the commonest pairs among the IBM sample's churners, weights ~ counts).
_CHURN_REASONS: tuple[tuple[str, str, int], ...] = (
    ("Competitor", "Competitor offered higher download speeds", 158),
    ("Competitor", "Competitor offered more data", 152),
    ("Competitor", "Competitor made better offer", 136), ("Competitor", "Competitor had better devices", 126),
    ("Attitude", "Attitude of support person", 138), ("Attitude", "Attitude of service provider", 91),
    ("Other", "Don't know", 133), ("Other", "Moved", 46), ("Price", "Price too high", 78),
    ("Price", "Extra data charges", 40), ("Price", "Long distance charges", 35),
    ("Dissatisfaction", "Product dissatisfaction", 77), ("Dissatisfaction", "Network reliability", 72),
    ("Dissatisfaction", "Service dissatisfaction", 63), ("Dissatisfaction", "Limited range of services", 37),
)  # fmt: skip
#: Months of tenure up to which a customer who stays is ``Joined`` rather than ``Stayed`` (as in the IBM sample).
_JOINED_MONTHS = 3
_DERIVED = ("is_senior", "age_group", "tenure_band", "n_services", "total_charges_was_blank")


def next_month_features(customers: pd.DataFrame, *, drift: bool, seed: int) -> pd.DataFrame:
    """The customers who stayed, one month later (before churn is drawn).

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers of the latest snapshot (warehouse names); needs ``customer_id``,
        ``tenure`` (months), ``monthly_charges`` and ``total_charges`` (USD); ``churn`` if present
        selects the stayers.
    drift : bool
        Apply :data:`DRIFT` (see the module docstring).
    seed : int
        Seed of the generator (same seed and input, same rows).

    Returns
    -------
    pandas.DataFrame of shape (n_stayers, n_columns)
        Same columns (derived ones recomputed, ``segment`` dropped); ``customer_id`` is
        ``SYN-<lineage id>``; ``tenure`` + 1; ``total_charges`` += ``monthly_charges`` (after drift),
        ``total_long_distance_charges`` += ``avg_monthly_long_distance_charges`` and ``total_revenue``
        grown by both, where present; rounded to cents. The churn columns still say the customer stayed.

    Raises
    ------
    KeyError
        If a required column is missing.
    """
    from churn_core.data.snapshots import SYNTHETIC_PREFIX, lineage_id

    rng = np.random.default_rng(seed)
    stay = customers["churn"] != "Yes" if "churn" in customers else pd.Series(True, index=customers.index)
    out = customers.loc[stay].drop(columns=[c for c in ("segment", *_DERIVED) if c in customers]).copy()
    out = out.sort_values("customer_id", kind="stable").reset_index(drop=True)
    out["customer_id"] = [SYNTHETIC_PREFIX + lineage_id(c) for c in out["customer_id"]]
    monthly = out["monthly_charges"].to_numpy(dtype=float).copy()
    if drift:
        internet = out["internet_service"].to_numpy(dtype=object).copy()
        dsl, fibre = internet == "DSL", internet == "Fiber optic"
        ratio = monthly[fibre].mean() / monthly[dsl].mean() if fibre.any() and dsl.any() else 1.0
        movers = dsl & (rng.random(len(out)) < DRIFT["dsl_to_fibre_share"])
        internet[movers] = "Fiber optic"
        monthly[movers] *= ratio
        monthly[internet == "Fiber optic"] *= 1 + DRIFT["fibre_charge_increase"]
        out["internet_service"] = internet
    out["monthly_charges"] = np.round(monthly, 2)
    out["tenure"] = out["tenure"].astype("int64") + 1
    out["total_charges"] = np.round(out["total_charges"].fillna(0.0).astype(float) + out["monthly_charges"], 2)
    added = out["monthly_charges"].copy()
    if "avg_monthly_long_distance_charges" in out and "total_long_distance_charges" in out:
        ld = out["avg_monthly_long_distance_charges"].astype(float)
        out["total_long_distance_charges"] = np.round(out["total_long_distance_charges"].astype(float) + ld, 2)
        added = added + ld
    if "total_revenue" in out:
        out["total_revenue"] = np.round(out["total_revenue"].astype(float) + added, 2)
    return add_derived_columns(out) if "age" in out else _classic_derived(out)


def _classic_derived(out: pd.DataFrame) -> pd.DataFrame:
    from churn_core.data.loading import add_classic_derived_columns

    return add_classic_derived_columns(out)


def draw_churn(frame: pd.DataFrame, probability: np.ndarray, seed: int) -> pd.DataFrame:
    """Draw who churns this month from the model's probabilities and set every churn column to match.

    Parameters
    ----------
    frame : pandas.DataFrame of shape (n_customers, n_columns)
        :func:`next_month_features` output.
    probability : numpy.ndarray of shape (n_customers,)
        Churn probability of each row, in [0, 1] (the champion model's).
    seed : int
        Seed of the generator.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_columns)
        A copy with ``churn`` ("Yes" with the given probability) and, where the columns exist,
        ``churn_flag`` (0/1), and the synthetic leakage columns: ``customer_status`` (Churned,
        Joined up to 3 months of tenure, Stayed), ``churn_score`` / ``churn_score_1`` (0-100 points:
        65-100 for churners, 5-80 otherwise, rising with the probability), ``satisfaction_score``
        (1-3 churners, 3-5 others), ``churn_category`` / ``churn_reason`` ("0" and blank for
        stayers). ``cltv`` (USD) is carried over.

    Raises
    ------
    ValueError
        If ``probability`` has another length or values outside [0, 1].
    """
    p = np.asarray(probability, dtype=float)
    if p.shape != (len(frame),) or np.any((p < 0) | (p > 1)) or np.isnan(p).any():
        raise ValueError(f"probability must be {len(frame)} values in [0, 1], got shape {p.shape}")
    rng = np.random.default_rng(seed)
    n = len(frame)
    churned = rng.random(n) < p
    out = frame.copy()
    out["churn"] = np.where(churned, "Yes", "No")
    if "churn_flag" in out:
        out["churn_flag"] = churned.astype("int64")
    if "customer_status" in out:
        joined = out["tenure"].to_numpy() <= _JOINED_MONTHS
        out["customer_status"] = np.where(churned, "Churned", np.where(joined, "Joined", "Stayed"))
    if "churn_score" in out:
        noise = rng.normal(0, 6, n)
        score = np.where(churned, np.clip(65 + 35 * p + noise, 65, 100), np.clip(5 + 75 * p + noise, 5, 80))
        out["churn_score"] = np.rint(score).astype("int64")
        if "churn_score_1" in out:
            out["churn_score_1"] = np.clip(out["churn_score"] + rng.integers(-3, 4, n), 0, 100).astype("int64")
    if "satisfaction_score" in out:
        low, high = rng.choice([1, 2, 3], n, p=[0.49, 0.28, 0.23]), rng.choice([3, 4, 5], n, p=[0.43, 0.35, 0.22])
        out["satisfaction_score"] = np.where(churned, low, high).astype("int64")
    if "churn_category" in out:
        weights = np.array([w for *_, w in _CHURN_REASONS], dtype=float)
        pick = rng.choice(len(_CHURN_REASONS), n, p=weights / weights.sum())
        out["churn_category"] = np.where(churned, [_CHURN_REASONS[i][0] for i in pick], "0")
        if "churn_reason" in out:
            reasons = pd.Series([_CHURN_REASONS[i][1] for i in pick], dtype=object)
            out["churn_reason"] = reasons.where(churned, None).to_numpy()
    return out


def write_snapshot_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write customers (warehouse names) as a raw customer CSV (IBM column names and order, UTF-8).

    Parameters
    ----------
    frame : pandas.DataFrame of shape (n_customers, n_columns)
        Customers with warehouse names (derived columns are left out).
    path : str or Path
        The file to write (its folder is created).

    Returns
    -------
    Path
        ``path``.
    """
    from churn_core.data.schema import SCHEMAS, detect_schema
    from churn_core.escaping import write_csv

    raw = to_raw_csv(frame)
    keep = RAW_COLUMNS if "age" in frame else SCHEMAS[detect_schema(frame.columns)].raw_columns
    raw = raw[[c for c in keep if c in raw.columns]]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(raw, path)  # cells neutralised like every CSV the studio writes
