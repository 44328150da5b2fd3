"""Business layer: expected-profit threshold, risk score and tiers, retention actions.

Expected profit of contacting a customer with calibrated churn probability ``p``:
``p · s · V − c``, where ``c`` is the retention offer's cost (USD), ``s`` the share of
would-be churners the offer keeps, and ``V`` the customer's value (monthly charges ×
value horizon, USD). Contacting pays when ``p > c / (s · V)``: that is the operating
threshold, set by the economics rather than by 0.5. It needs calibrated probabilities,
which is why the ensemble is calibrated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

#: Risk tiers by calibrated churn probability: (name, lower bound inclusive).
RISK_TIERS: tuple[tuple[str, float], ...] = (("low", 0.0), ("medium", 0.2), ("high", 0.4), ("very_high", 0.6))
#: Tiers that make a customer "at risk" (the outreach audience).
AT_RISK_TIERS: tuple[str, ...] = ("high", "very_high")


class Economics(BaseModel):
    """Assumptions of the retention offer.

    Attributes
    ----------
    offer_cost_usd : float
        Cost of one retention offer (USD per contacted customer).
    success_rate : float
        Share of would-be churners the offer keeps, in (0, 1].
    value_months : float
        Months of monthly charges a kept customer is worth (USD value = monthly charges ×
        this).
    """

    offer_cost_usd: float = Field(default=50.0, ge=0)
    success_rate: float = Field(default=0.3, gt=0, le=1)
    value_months: float = Field(default=12.0, gt=0)

    @classmethod
    def from_settings(cls, settings=None) -> Economics:
        """The economics configured in :class:`churn_core.config.Settings`."""
        from churn_core.config import get_settings

        s = settings or get_settings()
        return cls(
            offer_cost_usd=s.offer_cost_usd, success_rate=s.offer_success_rate, value_months=s.customer_value_months
        )

    def customer_value(self, monthly_charges) -> np.ndarray:
        """Value of keeping each customer (USD), array of shape (n_customers,)."""
        return np.asarray(monthly_charges, dtype=float) * self.value_months

    def threshold(self, monthly_charges) -> np.ndarray:
        """Break-even churn probability per customer, ``c / (s · V)``, clipped to [0, 1]."""
        value = self.customer_value(monthly_charges)
        with np.errstate(divide="ignore"):
            return np.clip(self.offer_cost_usd / (self.success_rate * value), 0.0, 1.0)

    def global_threshold(self, monthly_charges) -> float:
        """One operating threshold for a population: break-even at its mean value."""
        return float(self.threshold(np.mean(monthly_charges)))

    def expected_profit(self, proba, monthly_charges) -> np.ndarray:
        """Expected profit of contacting each customer (USD), shape (n_customers,)."""
        return np.asarray(proba) * self.success_rate * self.customer_value(monthly_charges) - self.offer_cost_usd


def profit_curve(y, proba, monthly_charges, economics: Economics, steps: int = 101) -> pd.DataFrame:
    """Realised profit of contacting everyone above each threshold, on labelled data.

    A contacted churner is kept with probability ``s`` (value ``s · V``); every contact
    costs ``c``.

    Returns
    -------
    pandas.DataFrame of shape (steps, 3)
        ``threshold``, ``contacted`` (customers), ``profit_usd``.
    """
    y = np.asarray(y, dtype=float)
    proba = np.asarray(proba, dtype=float)
    gain = y * economics.success_rate * economics.customer_value(monthly_charges) - economics.offer_cost_usd
    rows = []
    for t in np.linspace(0, 1, steps):
        chosen = proba >= t
        rows.append({"threshold": t, "contacted": int(chosen.sum()), "profit_usd": float(gain[chosen].sum())})
    return pd.DataFrame(rows)


def risk_score(proba) -> np.ndarray:
    """Churn risk score 0-100: the calibrated probability in percent, rounded."""
    return np.rint(100 * np.clip(np.asarray(proba, dtype=float), 0, 1)).astype(int)


def risk_tier(proba) -> np.ndarray:
    """Risk tier of each probability: "low", "medium", "high" or "very_high"."""
    bounds = [b for _, b in RISK_TIERS[1:]]
    names = np.array([n for n, _ in RISK_TIERS])
    return names[np.searchsorted(bounds, np.asarray(proba, dtype=float), side="right")]


@dataclass(frozen=True)
class Action:
    """A retention action triggered by a rule.

    Attributes
    ----------
    key : str
        Message-catalog key suffix (``action.<key>``) of the action's text.
    driver : str or None
        Feature whose SHAP contribution must push risk up for the action to apply;
        None means the action applies whenever its condition holds.
    """

    key: str
    driver: str | None


def _rules(c) -> list[tuple[bool, Action]]:
    internet = c.get("internet_service", "No") != "No"
    return [
        (c.get("contract") == "Month-to-month", Action("longer_contract", "contract")),
        (
            c.get("internet_service") == "Fiber optic" and c.get("tech_support") == "No",
            Action("tech_support_trial", "tech_support"),
        ),
        (c.get("payment_method") == "Electronic check", Action("autopay", "payment_method")),
        (internet and c.get("online_security") == "No", Action("security_trial", "online_security")),
        (float(c.get("tenure", 99)) <= 6, Action("onboarding_call", "tenure")),
        (float(c.get("number_of_referrals", 1)) == 0, Action("referral_bonus", "number_of_referrals")),
        # a classic-schema customer has no age: its SeniorCitizen flag (65+) says the same
        (
            float(c.get("age", 0)) >= 65 or int(c.get("senior_citizen", 0)) == 1,
            Action("senior_digital_education", None),
        ),
    ]


def recommend(customer, risk_drivers: set[str] | None = None) -> list[str]:
    """Retention actions for one customer, most specific first.

    Parameters
    ----------
    customer : pandas.Series or dict
        One customer's features (warehouse names).
    risk_drivers : set of str, optional
        Features that push this customer's risk up (positive SHAP values). When given,
        driver-bound actions are kept only if their driver is in the set; the senior
        programme (digital-learning centre, KT plaza device class, 10 % plan discount for
        completing digital education) applies to every senior.

    Returns
    -------
    list of str
        Action keys; their texts are ``action.<key>`` in the message catalog.
    """
    actions = []
    for applies, action in _rules(customer):
        if not applies:
            continue
        if risk_drivers is not None and action.driver is not None and action.driver not in risk_drivers:
            continue
        actions.append(action.key)
    return actions
