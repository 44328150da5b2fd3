"""Retention-campaign simulator on top of the survival model.

For each targeted customer we have ``S_k = S(t + k | T > t)``, k = 1..H (conditional
survival by month). A share ``uptake`` of the targeted customers takes the offer: their
monthly hazard ``h_k = 1 − S_k / S_{k−1}`` is cut by ``churn_reduction`` (relative) and they
pay ``1 − discount`` of their monthly charges. Everyone else is unchanged. Revenue of a
month is monthly charges × survival; the campaign's cost is the discount given to
customers while they stay. Figures are expectations in USD, undiscounted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field


class Campaign(BaseModel):
    """Campaign assumptions.

    Attributes
    ----------
    discount : float
        Price discount for customers who take the offer (0.1 = 10 %).
    uptake : float
        Share of targeted customers who take the offer (e.g. complete the digital education).
    churn_reduction : float
        Relative reduction of the monthly churn hazard of those who take it (0.1 = 10 %).
    """

    discount: float = Field(default=0.10, ge=0, le=1)
    uptake: float = Field(default=0.5, ge=0, le=1)
    churn_reduction: float = Field(default=0.10, ge=0, le=1)


def improved_survival(surv: np.ndarray, churn_reduction: float) -> np.ndarray:
    """Survival curves with every monthly hazard multiplied by ``1 − churn_reduction``.

    Parameters
    ----------
    surv : numpy.ndarray of shape (n_customers, horizon)
        Conditional survival ``S_1..S_H``.
    """
    prev = np.hstack([np.ones((surv.shape[0], 1)), surv[:, :-1]])
    hazard = 1.0 - surv / np.maximum(prev, 1e-12)
    return np.cumprod(1.0 - hazard * (1.0 - churn_reduction), axis=1)


def simulate(monthly_charges, surv: np.ndarray, campaign: Campaign, horizons=(12, 24)) -> pd.DataFrame:
    """Expected revenue and retained customers with and without the campaign.

    Parameters
    ----------
    monthly_charges : array-like of shape (n_customers,)
        USD/month of the targeted customers.
    surv : numpy.ndarray of shape (n_customers, horizon)
        Their conditional survival; ``horizon`` ≥ max(horizons).

    Returns
    -------
    pandas.DataFrame, one row per horizon (months)
        ``customers_without``, ``customers_with`` (expected still active at the horizon),
        ``revenue_without_usd``, ``revenue_with_usd``, ``discount_cost_usd``,
        ``net_gain_usd`` (= revenue with − revenue without; the discount is already netted
        out of revenue with).
    """
    m = np.asarray(monthly_charges, dtype=float)[:, None]
    better = improved_survival(surv, campaign.churn_reduction)
    rows = []
    for h in horizons:
        base = surv[:, :h]
        taken = better[:, :h]
        revenue_without = float((m * base).sum())
        with_offer = (m * (1 - campaign.discount) * taken).sum()
        without_offer = (m * base).sum()
        revenue_with = float(campaign.uptake * with_offer + (1 - campaign.uptake) * without_offer)
        rows.append(
            {
                "horizon_months": h,
                "customers_without": float(base[:, -1].sum()),
                "customers_with": float(
                    campaign.uptake * taken[:, -1].sum() + (1 - campaign.uptake) * base[:, -1].sum()
                ),
                "revenue_without_usd": revenue_without,
                "revenue_with_usd": revenue_with,
                "discount_cost_usd": float(campaign.uptake * (m * campaign.discount * taken).sum()),
                "net_gain_usd": revenue_with - revenue_without,
            }
        )
    return pd.DataFrame(rows)


def break_even_reduction(monthly_charges, surv: np.ndarray, campaign: Campaign, horizon: int = 24) -> float | None:
    """Smallest churn reduction (0-1, step 0.005) at which the campaign pays back within ``horizon``.

    Returns None if even a 100 % reduction does not pay back.
    """
    for r in np.arange(0, 1.0001, 0.005):
        trial = campaign.model_copy(update={"churn_reduction": float(r)})
        if simulate(monthly_charges, surv, trial, (horizon,))["net_gain_usd"].iloc[0] >= 0:
            return float(r)
    return None


def sensitivity(monthly_charges, surv: np.ndarray, campaign: Campaign, horizon: int = 24) -> pd.DataFrame:
    """Net gain (USD) over a grid of churn reductions (0-30 %) and uptakes (25/50/75/100 %)."""
    rows = []
    for uptake in (0.25, 0.5, 0.75, 1.0):
        for r in np.linspace(0, 0.3, 13):
            trial = campaign.model_copy(update={"churn_reduction": float(r), "uptake": uptake})
            gain = simulate(monthly_charges, surv, trial, (horizon,))["net_gain_usd"].iloc[0]
            rows.append({"uptake": uptake, "churn_reduction": float(r), "net_gain_usd": float(gain)})
    return pd.DataFrame(rows)


def audience(customers: pd.DataFrame, target, at_risk_ids=()) -> pd.DataFrame:
    """Customers a campaign targets.

    Parameters
    ----------
    target : "at_risk_seniors", "seniors" or int
        At-risk seniors (``at_risk_ids``, in that order), every senior (65+), or one segment.
    at_risk_ids : sequence of str
        ``customer_id`` of the at-risk seniors (from :func:`churn_core.prediction.at_risk.at_risk_seniors`).
    """
    if target == "at_risk_seniors":
        return customers.set_index("customer_id").loc[list(at_risk_ids)].reset_index()
    if target == "seniors":
        return customers[customers["is_senior"]]
    return customers[customers["segment"] == int(target)]


#: Audiences that are not a segment number.
NAMED_AUDIENCES: tuple[str, ...] = ("at_risk_seniors", "seniors")


def audience_options(customers: pd.DataFrame) -> list:
    """Audiences to offer: at-risk seniors, every senior, then each stored segment number."""
    return [*NAMED_AUDIENCES, *sorted(int(v) for v in customers["segment"].unique())]


@dataclass(frozen=True)
class OfferEvaluation:
    """What the simulator shows for one audience and offer.

    Attributes
    ----------
    result : pandas.DataFrame
        :func:`simulate` at 12 and 24 months.
    break_even : float or None
        :func:`break_even_reduction` at 24 months.
    sensitivity : pandas.DataFrame
        :func:`sensitivity` grid.
    """

    result: pd.DataFrame
    break_even: float | None
    sensitivity: pd.DataFrame


def evaluate_offer(model, chosen: pd.DataFrame, campaign: Campaign, horizon: int = 24) -> OfferEvaluation:
    """Simulate ``campaign`` on the ``chosen`` customers with the survival ``model``'s curves.

    Parameters
    ----------
    model : churn_core.analytics.survival.SurvivalModel
        Fitted; its ``conditional_survival`` gives each customer's curve for ``horizon`` months.
    chosen : pandas.DataFrame
        The audience (from :func:`audience`), with ``monthly_charges`` (USD/month).
    """
    surv = model.conditional_survival(chosen, horizon)
    charges = chosen["monthly_charges"]
    return OfferEvaluation(
        simulate(charges, surv, campaign),
        break_even_reduction(charges, surv, campaign, horizon),
        sensitivity(charges, surv, campaign, horizon),
    )
