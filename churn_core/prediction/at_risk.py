"""At-risk seniors: the outreach audience, from stored scores, or scored on a sample when none are stored.

The one place that answers "which seniors are at risk?": :func:`at_risk_seniors` scores
given customers, :func:`at_risk_seniors_from_scores` reads a batch run's ``scores`` table,
:func:`at_risk_seniors_from_sample` reads the churn probabilities the build stored for the model
sample (:mod:`churn_core.analytics.precomputed`), and :func:`stored_at_risk_source` says which
stored scores belong to the customers the warehouse holds now and to a given model.

**Which stored scores (issue #17: no scoring while a page loads).** In this order:

1. ``("run", run_id)``: the newest completed ``churn-studio score`` run (``model_runs``) of the
   model file with that SHA-256 whose customers are the warehouse's now: logged in
   ``scoring_runs`` with the snapshot the warehouse (or snapshot view) holds and, for the
   warehouse itself, finished after its last build or ingest (``built_at``), with its rows still
   in ``scores``. Every customer, scored by the command.
2. ``("sample", build_key)``: the probabilities the build or ingest stored for the deterministic
   model sample (:func:`churn_core.data.customers.customer_sample` of ``sample_rows``) under the
   current build key and that model's SHA-256. The seniors of the sample.
3. None: nothing stored for these customers and this model (another champion was promoted since,
   or the warehouse was built without its after-build steps); the caller scores the sample.

So a promotion (another model file) or a new snapshot, ingest or build never serves old scores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from churn_core.data.loading import SENIOR_AGE
from churn_core.data.warehouse import Warehouse
from churn_core.prediction.business import AT_RISK_TIERS, Economics, risk_score, risk_tier

if TYPE_CHECKING:
    from churn_core.prediction.ensemble import ChurnEnsemble

#: Columns of every at-risk table, in order (``age`` is missing for classic-schema customers).
AT_RISK_COLUMNS: tuple[str, ...] = ("customer_id", "churn_probability", "risk_score", "risk_tier",
                                    "expected_profit_usd", "contact", "monthly_charges", "age")  # fmt: skip


def at_risk_seniors(
    model: ChurnEnsemble,
    customers: pd.DataFrame,
    economics: Economics | None = None,
    tiers: tuple[str, ...] = AT_RISK_TIERS,
) -> pd.DataFrame:
    """Seniors (65+) in the given risk tiers, riskiest first: the outreach audience.

    Parameters
    ----------
    customers : pandas.DataFrame
        Customers with ``customer_id``, the model features and ``age`` (or, for a classic-schema
        table without ``age``, ``is_senior``).

    Returns
    -------
    pandas.DataFrame
        :func:`score_frame` columns plus ``age`` (missing for classic-schema customers), sorted by
        churn probability, descending.
    """
    from churn_core.prediction.scoring import score_frame

    # a classic-schema table has no age: its SeniorCitizen flag (is_senior) marks the same customers
    senior = customers["age"] >= SENIOR_AGE if "age" in customers else customers["is_senior"].astype(bool)
    seniors = customers[senior]
    age = seniors["age"].to_numpy() if "age" in seniors else pd.array([pd.NA] * len(seniors), dtype="Int64")
    scored = score_frame(model, seniors, economics).assign(age=age)
    chosen = scored[scored["risk_tier"].isin(tiers)]
    return chosen.sort_values("churn_probability", ascending=False, kind="stable").reset_index(drop=True)


def at_risk_seniors_from_scores(
    wh: Warehouse, run_id: str, economics: Economics | None = None, tiers: tuple[str, ...] = AT_RISK_TIERS
) -> pd.DataFrame:
    """At-risk seniors read from the ``scores`` table of a run (no scoring in the app).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`at_risk_seniors`, riskiest first;
        ``expected_profit_usd`` and ``contact`` recomputed for ``economics``.
    """
    economics = economics or Economics.from_settings()
    age = "c.age" if "age" in wh.schema("customers") else "CAST(NULL AS INT64) AS age"  # none in a classic file
    sql = (
        f"SELECT s.customer_id, s.churn_probability, s.risk_score, s.risk_tier, c.monthly_charges, {age} "
        "FROM {scores} AS s JOIN {customers} AS c ON s.customer_id = c.customer_id "
        "WHERE s.run_id = @run_id AND c.is_senior AND s.risk_tier IN UNNEST(@tiers) "
        "ORDER BY s.churn_probability DESC, s.customer_id"
    )
    df = wh.query(sql, {"run_id": run_id, "tiers": list(tiers)})
    profit = economics.expected_profit(df["churn_probability"].to_numpy(), df["monthly_charges"])
    cols = ["customer_id", "churn_probability", "risk_score", "risk_tier", "expected_profit_usd", "contact"]
    df = df.assign(expected_profit_usd=profit, contact=profit > 0)
    return df[[*cols, "monthly_charges", "age"]]


def at_risk_seniors_in_warehouse(
    wh: Warehouse,
    model: ChurnEnsemble,
    run_id: str | None,
    economics: Economics | None = None,
    sample_rows: int = 20_000,
) -> pd.DataFrame:
    """At-risk seniors for the app: from a batch run's stored scores, else scored here on the sample.

    Parameters
    ----------
    run_id : str or None
        A completed ``churn-studio score`` run of this model (:func:`churn_core.prediction.batch.latest_run`);
        None scores the seniors of the deterministic sample of ``sample_rows`` customers
        (:func:`churn_core.data.customers.customer_sample`) in-process.
    sample_rows : int
        Size of that sample (customers).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`at_risk_seniors`, riskiest first.
    """
    from churn_core.data.customers import customer_sample

    if run_id is not None:
        return at_risk_seniors_from_scores(wh, run_id, economics)
    return at_risk_seniors(model, customer_sample(wh, sample_rows, seniors_only=True), economics)


def _utc(value) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _day(value) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def current_score_run(wh: Warehouse, model_sha256: str) -> str | None:
    """Id of the newest ``churn-studio score`` run of this model over the customers ``wh`` holds now, or None.

    Parameters
    ----------
    wh : Warehouse
        The warehouse, or a snapshot view of it (``wh.at(date)``).
    model_sha256 : str
        SHA-256 of the model file (the champion's, as the run recorded it in ``model_runs``).

    Returns
    -------
    str or None
        See rule 1 of the module docstring.
    """
    if not (model_sha256 and wh.table_exists("model_runs") and wh.table_exists("scores")):
        return None
    logged = wh.table_exists("scoring_runs")
    day_col = "r.snapshot_date" if logged else "CAST(NULL AS DATE) AS snapshot_date"
    join = "LEFT JOIN {scoring_runs} AS r ON r.run_id = m.run_id " if logged else ""
    sql = (f"SELECT m.run_id, m.finished_at, {day_col} FROM {{model_runs}} AS m {join}"
           "WHERE m.kind = 'score' AND m.status = 'done' AND m.model_sha256 = @sha "
           "ORDER BY m.finished_at DESC LIMIT 50")  # fmt: skip
    runs = wh.query(sql, {"sha": model_sha256})
    if runs.empty:
        return None
    own = getattr(wh, "snapshot_date", None)
    view = own if isinstance(own, dt.date) else None
    if view is None:
        from churn_core.data.snapshots import latest_snapshot_date

        wanted, built = latest_snapshot_date(wh), _utc(wh.meta().get("built_at"))
    for run_id, finished, day in runs.itertuples(index=False):
        day = _day(day)
        if view is not None:
            current = day == view
        else:
            after_build = built is None or (_utc(finished) is not None and _utc(finished) >= built)
            current = (day is None or day == wanted) and after_build
        if current and not wh.query("SELECT 1 AS x FROM {scores} WHERE run_id = @r LIMIT 1", {"r": run_id}).empty:
            return str(run_id)
    return None


def stored_at_risk_source(wh: Warehouse, model_sha256: str, sample_rows: int) -> tuple[str, str] | None:
    """Which stored scores give the at-risk seniors of ``wh`` by this model (the module docstring's rules).

    Parameters
    ----------
    wh : Warehouse
        The warehouse, or a snapshot view of it.
    model_sha256 : str
        SHA-256 of the serving model's file.
    sample_rows : int
        Size of the model sample the build stored probabilities for (``Settings.max_fit_rows``).

    Returns
    -------
    (str, str) or None
        ``("run", run_id)``, ``("sample", build_key)`` or None (nothing stored: score the sample).
    """
    run = current_score_run(wh, model_sha256)
    if run is not None:
        return ("run", run)
    from churn_core.analytics.precomputed import build_key

    if not (model_sha256 and wh.table_exists("analytics_customers")):
        return None
    key = build_key(wh, sample_rows)
    sql = ("SELECT COUNT(*) AS n FROM {analytics_customers} WHERE build_key = @key AND model_sha256 = @sha "
           "AND churn_probability IS NOT NULL")  # fmt: skip
    n = int(wh.query(sql, {"key": key, "sha": model_sha256})["n"].iloc[0])
    return ("sample", key) if n else None


def at_risk_seniors_from_sample(
    wh: Warehouse,
    build_key: str,
    model_sha256: str,
    economics: Economics | None = None,
    tiers: tuple[str, ...] = AT_RISK_TIERS,
) -> pd.DataFrame:
    """At-risk seniors of the model sample, from the probabilities the build stored (no model is loaded).

    Parameters
    ----------
    wh : Warehouse
        The warehouse (its ``analytics_customers`` and ``customers`` tables).
    build_key : str
        The build key the probabilities were stored under (:func:`stored_at_risk_source`).
    model_sha256 : str
        SHA-256 of the model file that computed them.
    economics : Economics, optional
        Offer assumptions for ``expected_profit_usd`` and ``contact``.
    tiers : tuple of str
        Risk tiers kept.

    Returns
    -------
    pandas.DataFrame
        :data:`AT_RISK_COLUMNS`, riskiest first (ties by ``customer_id``): the same table
        :func:`at_risk_seniors` gives for the sample's seniors scored by that model; empty when
        nothing is stored under that key and model.
    """
    economics = economics or Economics.from_settings()
    age = "c.age" if "age" in wh.schema("customers") else "CAST(NULL AS INT64) AS age"  # none in a classic file
    sql = (
        f"SELECT a.customer_id, a.churn_probability, c.monthly_charges, {age} "
        "FROM {analytics_customers} AS a JOIN {customers} AS c ON a.customer_id = c.customer_id "
        "WHERE a.build_key = @key AND a.model_sha256 = @sha AND c.is_senior AND a.churn_probability IS NOT NULL"
    )
    df = wh.query(sql, {"key": build_key, "sha": model_sha256})
    return at_risk_table(df["customer_id"], df["churn_probability"], df["monthly_charges"], df["age"], economics,
                         tiers)  # fmt: skip


def at_risk_table(
    customer_id: Sequence,
    churn_probability: Sequence[float],
    monthly_charges: Sequence[float],
    age: Sequence | None = None,
    economics: Economics | None = None,
    tiers: tuple[str, ...] = AT_RISK_TIERS,
) -> pd.DataFrame:
    """The at-risk table of customers with known churn probabilities (seniors already chosen).

    Parameters
    ----------
    customer_id, churn_probability, monthly_charges, age : array-like of shape (n_customers,)
        Probabilities 0-1, charges in USD/month; ``age`` may be None or missing values.
    economics : Economics, optional
        Offer assumptions.
    tiers : tuple of str
        Risk tiers kept.

    Returns
    -------
    pandas.DataFrame
        :data:`AT_RISK_COLUMNS`, riskiest first (ties by ``customer_id``).
    """
    economics = economics or Economics.from_settings()
    proba = pd.Series(churn_probability, dtype="float64").to_numpy()
    monthly = pd.Series(monthly_charges, dtype="float64").to_numpy()
    profit = economics.expected_profit(proba, monthly)
    ages = pd.array([pd.NA] * len(proba), dtype="Int64") if age is None else pd.array(age, dtype="Int64")
    df = pd.DataFrame({
        "customer_id": pd.Series(customer_id, dtype=object).to_numpy(), "churn_probability": proba,
        "risk_score": risk_score(proba), "risk_tier": risk_tier(proba), "expected_profit_usd": profit,
        "contact": profit > 0, "monthly_charges": monthly, "age": ages,
    })  # fmt: skip
    chosen = df[df["risk_tier"].isin(tiers)].sort_values("customer_id", kind="stable")
    return chosen.sort_values("churn_probability", ascending=False, kind="stable").reset_index(drop=True)


def combine_at_risk(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One at-risk table from those of disjoint groups (e.g. chunks scored one by one), riskiest first.

    Parameters
    ----------
    parts : sequence of pandas.DataFrame
        Tables of :func:`at_risk_seniors`, each in ``customer_id`` order before its sort.

    Returns
    -------
    pandas.DataFrame
        As :func:`at_risk_seniors` on all their customers at once (ties by ``customer_id``).
    """
    if not parts:
        return pd.DataFrame(columns=list(AT_RISK_COLUMNS))
    both = pd.concat(list(parts), ignore_index=True).sort_values("customer_id", kind="stable")
    return both.sort_values("churn_probability", ascending=False, kind="stable").reset_index(drop=True)
