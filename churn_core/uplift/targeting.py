"""Who to offer: ranking an audience by expected incremental profit instead of churn risk.

For each customer, with the uplift model's estimate ``u`` (reduction of churn probability by
the offer), the value of keeping the customer ``V`` (USD) and the offer's cost ``c`` (USD)::

    expected incremental profit = u x V - c
    expected customers kept     = u          (summed over an audience)

By default ``V`` is :meth:`churn_core.prediction.business.Economics.customer_value`: monthly
charges x the months a kept customer is worth (12 by default, the sidebar's offer economics),
the same value the campaign report uses; ``c`` is the economics' offer cost. For an audience of
size ``k`` :func:`compare_rankings` sums both over the top ``k`` by profit and over the top ``k``
by churn risk (the old ranking), with the *same* uplift estimates, so the two are comparable.
The numbers are the model's expectations, not observations; a model fitted on simulated
outcomes gives simulated expectations (the caller labels them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RANKING_CHOICES = ("risk", "profit")


def _column(values, name: str, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=float).reshape(-1) if np.ndim(values) else np.full(n, float(values))
    if len(arr) != n:
        raise ValueError(f"{name} must have one value per customer ({n}), got {len(arr)}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if len(bad):
        raise ValueError(f"{name} is missing or not finite at rows {bad[:10].tolist()}")
    return arr


def rank_by_profit(audience: pd.DataFrame, uplift, value_usd, offer_cost_usd: float) -> pd.DataFrame:
    """The audience with expected incremental profit per customer, most profitable first.

    Parameters
    ----------
    audience : pandas.DataFrame of shape (n, n_columns)
        Customers (any columns; ``churn_probability`` kept if present).
    uplift : array-like of float, shape (n,)
        Reduction of churn probability by the offer (:meth:`churn_core.uplift.model.UpliftModel.predict`).
    value_usd : array-like of float, shape (n,), or float
        Value of keeping each customer (USD).
    offer_cost_usd : float
        Cost of one offer (USD, >= 0).

    Returns
    -------
    pandas.DataFrame of shape (n, n_columns + 5)
        ``audience``'s columns plus ``uplift``, ``value_usd``, ``expected_profit_usd``,
        ``cumulative_kept`` and ``cumulative_profit_usd`` (over the ranking), sorted by
        expected profit, highest first (ties by churn probability if present, then input order).

    Raises
    ------
    ValueError
        If lengths differ, a value is missing or not finite, or the cost is negative.
    """
    n = len(audience)
    u = _column(uplift, "uplift", n)
    value = _column(value_usd, "value_usd", n)
    if not np.isfinite(offer_cost_usd) or offer_cost_usd < 0:
        raise ValueError(f"offer_cost_usd must be a finite amount >= 0, got {offer_cost_usd!r}")
    out = audience.reset_index(drop=True).assign(
        uplift=u, value_usd=value, expected_profit_usd=u * value - offer_cost_usd
    )
    keys = ["expected_profit_usd"] + (["churn_probability"] if "churn_probability" in out else [])
    out = out.sort_values(keys, ascending=False, kind="stable").reset_index(drop=True)
    return out.assign(cumulative_kept=out["uplift"].cumsum(), cumulative_profit_usd=out["expected_profit_usd"].cumsum())


@dataclass(frozen=True)
class TargetingOutlook:
    """Expected result of offering to the top ``size`` customers of one ranking.

    Attributes
    ----------
    ranking : {"profit", "risk"}
    size : int
        Customers offered.
    expected_kept : float
        Sum of uplift: customers the offer is expected to keep.
    expected_profit_usd : float
        Sum of ``uplift x value - cost`` (USD).
    offer_cost_usd : float
        ``size x cost`` (USD).
    """

    ranking: str
    size: int
    expected_kept: float
    expected_profit_usd: float
    offer_cost_usd: float


def compare_rankings(ranked: pd.DataFrame, size: int, offer_cost_usd: float) -> tuple[TargetingOutlook, ...]:
    """The top ``size`` by expected profit beside the top ``size`` by churn risk.

    Parameters
    ----------
    ranked : pandas.DataFrame
        From :func:`rank_by_profit`, with ``churn_probability``.
    size : int
        Audience size (0 <= size <= len(ranked)).
    offer_cost_usd : float
        Cost of one offer (USD).

    Returns
    -------
    tuple of TargetingOutlook
        ``(profit, risk)``.

    Raises
    ------
    ValueError
        If ``size`` is out of range or ``churn_probability`` is missing.
    """
    if not 0 <= size <= len(ranked):
        raise ValueError(f"audience size must be between 0 and {len(ranked)}, got {size}")
    if "churn_probability" not in ranked:
        raise ValueError("ranked audience has no churn_probability column: the risk ranking needs it")
    by_risk = ranked.sort_values("churn_probability", ascending=False, kind="stable")
    out = []
    for name, top in (("profit", ranked.head(size)), ("risk", by_risk.head(size))):
        out.append(
            TargetingOutlook(
                ranking=name,
                size=int(size),
                expected_kept=float(top["uplift"].sum()),
                expected_profit_usd=float(top["expected_profit_usd"].sum()),
                offer_cost_usd=float(size * offer_cost_usd),
            )
        )
    return tuple(out)


def choose_audience(ranked: pd.DataFrame, ranking: str, size: int) -> pd.DataFrame:
    """The top ``size`` of ``ranked`` by ``ranking`` (``"profit"`` or ``"risk"``), in that order.

    Raises
    ------
    ValueError
        If ``ranking`` is unknown or ``size`` is out of range.
    """
    if ranking not in RANKING_CHOICES:
        raise ValueError(f"ranking must be one of {RANKING_CHOICES}, got {ranking!r}")
    if not 0 <= size <= len(ranked):
        raise ValueError(f"audience size must be between 0 and {len(ranked)}, got {size}")
    if ranking == "risk":
        ranked = ranked.sort_values("churn_probability", ascending=False, kind="stable")
    return ranked.head(size).reset_index(drop=True)
