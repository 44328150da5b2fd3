"""Revenue and customer lifetime value (CLV): the revenue identity, CLV, revenue at risk.

CLV of a customer with current tenure ``t`` (discrete monthly sum, horizon ``H``):
``CLV = Σ_{k=1..H} m · S(t + k | T > t) / (1 + d)^(k / 12)``, with ``m`` the monthly margin
(USD/month), ``S(·|T > t)`` the survival function conditioned on having survived ``t``
months, and ``d`` the annual discount rate (Gupta & Lehmann 2003, "Customers as assets").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn_core.analytics.survival import SurvivalModel

#: Features the revenue page breaks revenue at risk down by.
RISK_GROUPS: tuple[str, ...] = ("age_group", "contract", "internet_service", "payment_method", "offer")


#: Columns the revenue identity reads (all in the extended file only).
IDENTITY_COLUMNS: tuple[str, ...] = (
    "total_revenue", "total_charges", "total_extra_data_charges", "total_long_distance_charges", "total_refunds",
)  # fmt: skip


def revenue_identity(customers: pd.DataFrame) -> pd.DataFrame:
    """Show that ``Total Revenue`` is an arithmetic identity of the charge columns.

    ``total_revenue = total_charges + total_extra_data_charges + total_long_distance_charges
    − total_refunds`` (USD). It holds to rounding (< 1e-9 USD) on every billed customer; the
    11 customers whose ``TotalCharges`` was blank (tenure 0) break it because their blank
    was loaded as 0.0. Predicting ``Total Revenue`` from these columns is therefore
    meaningless (R² = 1 by construction).

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 4)
        ``customer_id``, ``total_revenue``, ``reconstructed`` and ``residual`` (USD).
    """
    c = customers
    reconstructed = c["total_charges"] + c["total_extra_data_charges"] + c["total_long_distance_charges"]
    reconstructed = reconstructed - c["total_refunds"]
    return pd.DataFrame(
        {
            "customer_id": c["customer_id"],
            "total_revenue": c["total_revenue"],
            "reconstructed": reconstructed,
            "residual": c["total_revenue"] - reconstructed,
        }
    )


def clv_from_survival(monthly_margin, conditional_survival, annual_discount: float) -> np.ndarray:
    """Discounted CLV (USD) from monthly margins and conditional survival probabilities.

    Parameters
    ----------
    monthly_margin : array-like of shape (n_customers,)
        Margin per month (USD/month).
    conditional_survival : array-like of shape (n_customers, horizon)
        ``S(t + k | T > t)`` for k = 1..horizon.
    annual_discount : float
        Annual discount rate (0.1 = 10 %), applied monthly as ``(1 + d)^(k/12)``.

    Returns
    -------
    numpy.ndarray of shape (n_customers,)
    """
    surv = np.asarray(conditional_survival, dtype=float)
    k = np.arange(1, surv.shape[1] + 1)
    discount = (1.0 + annual_discount) ** (-k / 12.0)
    return np.asarray(monthly_margin, dtype=float) * (surv * discount).sum(axis=1)


@dataclass(frozen=True)
class CLVAssumptions:
    """Assumptions of the CLV calculation.

    Attributes
    ----------
    margin_rate : float
        Share of monthly charges that is margin (0-1).
    annual_discount : float
        Annual discount rate.
    horizon_months : int
        Months summed.
    """

    margin_rate: float = 0.3
    annual_discount: float = 0.1
    horizon_months: int = 60


def customer_clv(
    model: SurvivalModel, customers: pd.DataFrame, assumptions: CLVAssumptions = CLVAssumptions()
) -> pd.DataFrame:
    """Expected remaining lifetime (months, within the horizon) and CLV (USD) per customer.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 4)
        ``customer_id``, ``expected_months``, ``clv_usd``, ``revenue_at_risk_12m_usd``
        (expected monthly revenue lost over the next 12 months: monthly charges × Σ of the
        probability of having churned by each month).
    """
    return clv_table(customers, model.conditional_survival(customers, assumptions.horizon_months), assumptions)


def clv_table(
    customers: pd.DataFrame, conditional_survival: np.ndarray, assumptions: CLVAssumptions = CLVAssumptions()
) -> pd.DataFrame:
    """:func:`customer_clv` from survival curves already evaluated (e.g. in closed form).

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        ``customer_id`` and ``monthly_charges`` (USD/month).
    conditional_survival : numpy.ndarray of shape (n_customers, horizon)
        ``S(t + k | T > t)`` for k = 1..horizon, in the order of ``customers``.
    assumptions : CLVAssumptions
        Margin and discount (the horizon is the curves' width).

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 4)
        As :func:`customer_clv`.
    """
    surv = np.asarray(conditional_survival, dtype=float)
    monthly = customers["monthly_charges"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "expected_months": surv.sum(axis=1),
            "clv_usd": clv_from_survival(monthly * assumptions.margin_rate, surv, assumptions.annual_discount),
            "revenue_at_risk_12m_usd": monthly * (1.0 - surv[:, :12]).sum(axis=1),
        }
    )


def revenue_at_risk_by(clv: pd.DataFrame, customers: pd.DataFrame, column: str) -> pd.DataFrame:
    """Revenue at risk over 12 months (USD) and customers per level of ``column``.

    Parameters
    ----------
    clv : pandas.DataFrame
        Output of :func:`customer_clv`; matched to ``customers`` by ``customer_id``.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``customers``, ``revenue_at_risk_12m_usd``, largest risk first.
    """
    risk = clv.set_index("customer_id")["revenue_at_risk_12m_usd"]
    table = pd.DataFrame(
        {"level": customers[column].astype(str).to_numpy(), "risk": risk.reindex(customers["customer_id"]).to_numpy()}
    )
    out = table.groupby("level", as_index=False).agg(
        customers=("risk", "size"), revenue_at_risk_12m_usd=("risk", "sum")
    )
    return out.sort_values("revenue_at_risk_12m_usd", ascending=False, ignore_index=True)


def identity_breaks(customers: pd.DataFrame, tolerance_usd: float = 1e-6) -> int:
    """Customers whose ``total_revenue`` differs from the charge identity by more than ``tolerance_usd``.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers (charges in USD).
    tolerance_usd : float
        Largest residual (USD) still counted as rounding.

    Returns
    -------
    int
        Number of customers breaking :func:`revenue_identity` (11 on the IBM data: the unbilled ones).
    """
    return int((revenue_identity(customers)["residual"].abs() > tolerance_usd).sum())


def clv_by_customer(clv: pd.DataFrame, customers: pd.DataFrame) -> np.ndarray:
    """CLV (USD) of each row of ``customers``, matched by ``customer_id`` (NaN where missing).

    Returns
    -------
    numpy.ndarray of shape (n_customers,)
    """
    return clv.set_index("customer_id")["clv_usd"].reindex(customers["customer_id"]).to_numpy()


def clv_cltv_correlation(clv: pd.DataFrame, customers: pd.DataFrame) -> float:
    """Pearson correlation of our CLV (USD) with IBM's ``cltv`` score, matched by ``customer_id``.

    Parameters
    ----------
    clv : pandas.DataFrame
        :func:`customer_clv` output (``customer_id``, ``clv_usd``).
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Customers with ``customer_id`` and IBM's ``cltv`` (a score, not USD).

    Returns
    -------
    float
        Pearson's r over the customers that have a CLV, in [-1, 1].
    """
    ours = clv_by_customer(clv, customers)
    keep = ~np.isnan(ours)
    return float(np.corrcoef(ours[keep], customers["cltv"].to_numpy(dtype=float)[keep])[0, 1])


def fit_survival_and_clv(customers: pd.DataFrame) -> tuple[SurvivalModel, pd.DataFrame, dict]:
    """The Weibull AFT model fitted on ``customers``, their CLV table, and the held-out evaluation.

    Returns
    -------
    (SurvivalModel, pandas.DataFrame, dict)
        The fitted model, :func:`customer_clv` of ``customers`` with default
        :class:`CLVAssumptions`, and :func:`churn_core.analytics.survival.evaluate_models`.
    """
    from churn_core.analytics.survival import evaluate_models

    model = SurvivalModel("weibull").fit(customers)
    return model, customer_clv(model, customers), evaluate_models(customers)


def fit_on_sample(wh, sample_rows: int) -> tuple[SurvivalModel, pd.DataFrame, dict]:
    """:func:`fit_survival_and_clv` on the deterministic sample of at most ``sample_rows`` customers.

    Parameters
    ----------
    wh : churn_core.data.warehouse.Warehouse
    sample_rows : int
        See :func:`churn_core.data.customers.customer_sample`.

    Returns
    -------
    (SurvivalModel, pandas.DataFrame, dict)
        As :func:`fit_survival_and_clv`.
    """
    from churn_core.data.customers import customer_sample

    return fit_survival_and_clv(customer_sample(wh, sample_rows))
