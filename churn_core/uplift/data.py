"""Training data of the uplift model: treated and control customers of campaigns with outcomes.

One row per (campaign, customer) of ``campaign_outcomes``
(:mod:`churn_core.outreach.outcomes`) whose customer is in the campaign's ledger (``outbox``,
``is_control`` says treated or control), with the customer's current features from the
``customers`` table (the churn model's features; see :mod:`churn_core.prediction.features`).
A customer in several campaigns appears once per campaign.

Simulated outcomes (``source = "simulated"``) are kept and flagged: everything fitted or
measured on them is labelled simulated (:attr:`UpliftData.simulated`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from churn_core.data.customers import customer_rows
from churn_core.data.warehouse import Warehouse


class NoUpliftDataError(LookupError):
    """No campaign with treated and control customers and outcomes to learn from; the message says what to run."""


@dataclass(frozen=True)
class UpliftData:
    """Customers of campaigns with outcomes.

    Attributes
    ----------
    customers : pandas.DataFrame of shape (n_rows, n_columns)
        The ``customers`` columns of each row's customer, plus ``campaign_id``.
    churned : pandas.Series of bool, shape (n_rows,)
        Outcome after the campaign.
    treated : pandas.Series of bool, shape (n_rows,)
        Got the offer (False: control group).
    campaigns : tuple of str
        Campaigns used, sorted.
    sources : tuple of str
        Outcome sources present (``snapshot``, ``import``, ``simulated``).
    assumptions : tuple of str
        Treatment-effect assumptions of the simulated rows (empty without them).
    """

    customers: pd.DataFrame
    churned: pd.Series
    treated: pd.Series
    campaigns: tuple[str, ...]
    sources: tuple[str, ...]
    assumptions: tuple[str, ...]

    @property
    def simulated(self) -> bool:
        """True if any outcome is simulated (every number from it must say so)."""
        return "simulated" in self.sources

    @property
    def n_treated(self) -> int:
        """Treated customers (rows)."""
        return int(self.treated.sum())

    @property
    def n_control(self) -> int:
        """Control customers (rows)."""
        return int((~self.treated).sum())


def campaigns_with_outcomes(wh: Warehouse) -> pd.DataFrame:
    """Campaigns that have outcomes, with counts by group.

    Returns
    -------
    pandas.DataFrame
        ``campaign_id``, ``n_treated``, ``n_control``, ``simulated`` (bool), ``assumption``
        (of simulated rows, else None); empty when there are none (or no table yet).
    """
    columns = ["campaign_id", "n_treated", "n_control", "simulated", "assumption"]
    if not (wh.table_exists("campaign_outcomes") and wh.table_exists("outbox")):
        return pd.DataFrame(columns=columns)
    return wh.query(
        "SELECT o.campaign_id, COUNTIF(NOT b.is_control) AS n_treated, COUNTIF(b.is_control) AS n_control, "
        "LOGICAL_OR(o.source = 'simulated') AS simulated, MAX(o.assumption) AS assumption "
        "FROM {campaign_outcomes} o JOIN (SELECT campaign_id, customer_id, LOGICAL_OR(is_control) AS is_control "
        "FROM {outbox} GROUP BY campaign_id, customer_id) b "
        "ON o.campaign_id = b.campaign_id AND o.customer_id = b.customer_id "
        "GROUP BY o.campaign_id ORDER BY o.campaign_id"
    )[columns]


def uplift_data(wh: Warehouse, campaign_ids: Sequence[str] | None = None) -> UpliftData:
    """Treated and control customers of ``campaign_ids`` (default: every campaign with outcomes).

    Parameters
    ----------
    wh : Warehouse
        The warehouse with ``campaign_outcomes``, ``outbox`` and ``customers``.
    campaign_ids : sequence of str, optional
        Campaigns to use; None uses all with outcomes.

    Returns
    -------
    UpliftData
        Rows in (campaign, customer) order.

    Raises
    ------
    NoUpliftDataError
        If a named campaign has no outcomes, or there are no rows at all, or the rows lack a
        treated or a control customer (the message names the campaigns and what to run).
    ValueError
        If outcome rows name customers missing from ``customers`` (ids listed; nothing is dropped).
    """
    have = campaigns_with_outcomes(wh)
    known = set(have["campaign_id"])
    wanted = sorted(set(campaign_ids)) if campaign_ids else sorted(known)
    missing = [c for c in wanted if c not in known]
    if missing or not wanted:
        raise NoUpliftDataError(
            f"no outcomes for campaign(s) {missing or '(none recorded)'}; record them first with "
            "`churn-studio campaign import-outcomes FILE`, or simulate them with "
            "`churn-studio campaign simulate-outcomes CAMPAIGN --effect m2m_only`"
        )
    rows = wh.query(
        "SELECT o.campaign_id, o.customer_id, o.churned, o.source, o.assumption, b.is_control "
        "FROM {campaign_outcomes} o JOIN (SELECT campaign_id, customer_id, LOGICAL_OR(is_control) AS is_control "
        "FROM {outbox} GROUP BY campaign_id, customer_id) b "
        "ON o.campaign_id = b.campaign_id AND o.customer_id = b.customer_id "
        "WHERE o.campaign_id IN UNNEST(@c) ORDER BY o.campaign_id, o.customer_id",
        {"c": wanted},
    )
    treated = ~rows["is_control"].astype(bool)
    if treated.all() or not treated.any():
        group = "control" if treated.all() else "treated"
        raise NoUpliftDataError(
            f"campaign(s) {wanted} have no {group} customers with outcomes: an uplift model compares treated "
            "and control customers (plan with a control share above 0, e.g. `--control-share 0.3`)"
        )
    customers = customer_rows(wh, tuple(sorted(set(rows["customer_id"]))))
    absent = sorted(set(rows["customer_id"]) - set(customers["customer_id"]))
    if absent:
        raise ValueError(
            f"{len(absent)} customer(s) with campaign outcomes are not in the customers table: {absent[:10]}; "
            "nothing was fitted"
        )
    frame = rows[["campaign_id", "customer_id"]].merge(customers, on="customer_id", how="left")
    sources = tuple(sorted(set(rows["source"].dropna())))
    assumptions = tuple(sorted(set(rows.loc[rows["source"] == "simulated", "assumption"].dropna())))
    return UpliftData(
        customers=frame,
        churned=rows["churned"].astype(bool).reset_index(drop=True).rename("churned"),
        treated=treated.reset_index(drop=True).rename("treated"),
        campaigns=tuple(wanted),
        sources=sources,
        assumptions=assumptions,
    )
