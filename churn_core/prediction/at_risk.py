"""At-risk seniors: the outreach audience, from stored batch scores or scored on a sample.

The one place that answers "which seniors are at risk?": :func:`at_risk_seniors` scores
given customers, :func:`at_risk_seniors_from_scores` reads a batch run's ``scores`` table,
and :func:`at_risk_seniors_in_warehouse` picks between them for the app.
"""

from __future__ import annotations

import pandas as pd

from churn_core.data.customers import customer_sample
from churn_core.data.loading import SENIOR_AGE
from churn_core.data.warehouse import Warehouse
from churn_core.prediction.business import AT_RISK_TIERS, Economics
from churn_core.prediction.ensemble import ChurnEnsemble
from churn_core.prediction.scoring import score_frame


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
    if run_id is not None:
        return at_risk_seniors_from_scores(wh, run_id, economics)
    return at_risk_seniors(model, customer_sample(wh, sample_rows, seniors_only=True), economics)
