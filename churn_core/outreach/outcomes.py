"""Campaign outcomes: who churned after a campaign, treated against control, and what it was worth.

Outcomes live in the warehouse table ``campaign_outcomes``
(:data:`churn_core.data.tables.CAMPAIGN_OUTCOMES`), one row per (campaign, customer):

* ``source = "snapshot"``: :func:`outcomes_from_snapshots` takes, for each customer of the
  campaign, the first outcome of the snapshots' ``outcomes`` table (``OUTCOME_RULE`` of
  :mod:`churn_core.data.snapshots`) observed after the campaign was planned.
* ``source = "import"``: :func:`import_outcomes` reads a file with the columns ``customerID``,
  ``churned`` and ``observed_at``; a bad file raises :class:`OutcomeFileError` naming the rows,
  columns and reason, and nothing is written.
* ``source = "simulated"``: :func:`simulate_outcomes` draws outcomes from a treatment-effect
  assumption (:data:`TREATMENT_EFFECTS`). Simulated rows carry ``outcome_id`` ``SYN-…`` and the
  assumption's name, and every report built on them is flagged ``simulated``.

Treatment-effect assumptions (simulation only)
----------------------------------------------
Each assumption is a relative churn reduction by contract type. A customer's base churn
probability ``p`` is the champion model's stored probability (latest run of the ``scores``
table; else the probability of the precomputed analytics). A treated customer churns with
probability ``p * (1 - effect[contract])``, a control customer with ``p``; one seeded draw each.

============  ===============  ========  ========
assumption    Month-to-month   One year  Two year
============  ===============  ========  ========
``m2m_only``  40 %             15 %      0 %
``uniform``   20 %             20 %      20 %
``none``      0 %              0 %       0 %
============  ===============  ========  ========

Report (:func:`campaign_report`)
--------------------------------
Intention to treat: every planned customer of the campaign with an outcome, treated
(``is_control`` false) or control. Churn rates with Wilson 95 % intervals; the difference
``control - treated`` with its 95 % interval (score method of Miettinen and Nurminen,
``statsmodels.stats.proportion.confint_proportions_2indep``; Newcombe's when a group's churn is
0 % or 100 %) and two-sided p-value (``test_proportions_2indep``, score test; 1 when nobody or
everybody churned). Customers kept = difference x treated customers
(its interval scaled the same way). Net revenue effect (USD)::

    net = kept x value_per_customer - discount_cost - message_cost
    kept               = (control churn rate - treated churn rate) x treated customers with an outcome
    value_per_customer = mean over those treated customers of monthly_charges x value_months
                         (Settings.customer_value_months, 12 by default: a year of revenue kept)
    discount_cost      = Settings.offer_cost_usd x treated messages delivered (sent, or recorded
                         in the outbox: the offer went to each of them)
    message_cost       = messages delivered x Settings.message_cost_usd[channel]
                         (``CHURN_MESSAGE_COST_USD``; a channel not listed there costs 0)

Its 95 % interval is that of ``kept`` carried through the same formula (costs are fixed). Amounts
are USD (the IBM sample's monthly charges), revenue not margin: the settings hold no margin.
Monthly charges are those of the table ``customers`` (the latest snapshot). The CLV of the
precomputed analytics is not used: it covers only the sample customers of the last build.

A control group is "too small to tell" when either group has fewer than
:data:`MIN_GROUP_SIZE` customers with an outcome, or when the smallest difference the group
sizes would detect (80 % power, 5 % two-sided, at the pooled churn rate:
``statsmodels.stats.power.NormalIndPower``) is above :data:`MAX_DETECTABLE_DIFFERENCE`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from churn_core.data.loading import FIRST_DATA_LINE, DataValidationError
from churn_core.data.reading import header_key, read_table
from churn_core.data.snapshots import lineage_id
from churn_core.data.tables import CAMPAIGN_OUTCOMES, OUTCOMES
from churn_core.data.warehouse import Warehouse

#: Relative churn reduction of the offer by contract type, per named assumption (simulation only).
TREATMENT_EFFECTS: dict[str, dict[str, float]] = {
    "m2m_only": {"Month-to-month": 0.40, "One year": 0.15, "Two year": 0.0},
    "uniform": {"Month-to-month": 0.20, "One year": 0.20, "Two year": 0.20},
    "none": {"Month-to-month": 0.0, "One year": 0.0, "Two year": 0.0},
}
#: Default assumption of ``churn-studio campaign simulate-outcomes``.
DEFAULT_ASSUMPTION = "m2m_only"
#: Prefix of simulated outcome ids.
SIMULATED_PREFIX = "SYN-"
OUTCOME_SOURCES = ("snapshot", "import", "simulated")


def treatment_effect(contract, assumption: str) -> np.ndarray:
    """Relative churn reduction per customer under ``assumption``.

    Parameters
    ----------
    contract : array-like of str, shape (n,)
        Contract types (``Month-to-month``, ``One year``, ``Two year``).
    assumption : str
        A key of :data:`TREATMENT_EFFECTS`.

    Returns
    -------
    numpy.ndarray of float, shape (n,)
        Fractions in [0, 1].

    Raises
    ------
    KeyError
        If the assumption is unknown (the message lists the known ones).
    ValueError
        If a contract type has no effect in the assumption (the values are named).
    """
    if assumption not in TREATMENT_EFFECTS:
        raise KeyError(f"unknown treatment-effect assumption {assumption!r}; known: {sorted(TREATMENT_EFFECTS)}")
    effects = TREATMENT_EFFECTS[assumption]
    values = pd.Series(np.asarray(contract, dtype=object))
    unknown = sorted({str(v) for v in values if v not in effects})
    if unknown:
        raise ValueError(f"contract type(s) {unknown} have no effect in assumption {assumption!r}: {sorted(effects)}")
    return values.map(effects).to_numpy(dtype=float)


def simulated_churn(base_probability, treated, contract, assumption: str, rng: np.random.Generator) -> np.ndarray:
    """Simulated churn: control customers churn with ``p``, treated ones with ``p * (1 - effect)``.

    Parameters
    ----------
    base_probability : array-like of float, shape (n,)
        Churn probability without the offer, in [0, 1].
    treated : array-like of bool, shape (n,)
        True for customers who got the offer, False for the control group.
    contract : array-like of str, shape (n,)
        Contract type of each customer.
    assumption : str
        A key of :data:`TREATMENT_EFFECTS`.
    rng : numpy.random.Generator
        Source of the draws (seed it for a reproducible simulation).

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
        True where the customer churns.

    Raises
    ------
    ValueError
        If the lengths differ, a probability is outside [0, 1] or missing, or a contract type
        is unknown to the assumption.
    KeyError
        If the assumption is unknown.
    """
    p = np.asarray(base_probability, dtype=float)
    t = np.asarray(treated, dtype=bool)
    c = np.asarray(contract, dtype=object)
    if not (len(p) == len(t) == len(c)):
        raise ValueError(f"lengths differ: base_probability {len(p)}, treated {len(t)}, contract {len(c)}")
    bad = np.flatnonzero(~np.isfinite(p) | (p < 0) | (p > 1))
    if len(bad):
        raise ValueError(f"base_probability outside [0, 1] or missing at positions {bad[:10].tolist()}")
    effect = treatment_effect(c, assumption)
    prob = np.where(t, p * (1.0 - effect), p)
    return rng.random(len(p)) < prob


def simulated_outcome_id(campaign_id: str, customer_id: str, assumption: str, seed: int) -> str:
    """Id of a simulated outcome: ``SYN-`` and 16 hex digits of SHA-256 of its inputs."""
    digest = hashlib.sha256(f"{campaign_id}|{customer_id}|{assumption}|{seed}".encode()).hexdigest()
    return f"{SIMULATED_PREFIX}{digest[:16]}"


# -- reading and writing the table ---------------------------------------------------------------
#: Fewest customers with an outcome in each group for a report to tell anything.
MIN_GROUP_SIZE = 30
#: Largest minimum detectable difference (fraction, at 80 % power, 5 % two-sided) that still tells.
MAX_DETECTABLE_DIFFERENCE = 0.10
#: Days after planning at which a simulated outcome is dated (one billing month).
SIMULATED_OBSERVATION_DAYS = 30
_FILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customerID": ("customerid", "customer", "고객id", "고객번호"),
    "churned": ("churned", "churn", "이탈", "이탈여부"),
    "observed_at": ("observedat", "observed", "observeddate", "관찰일", "관찰일자"),
}
_TRUE = {"1", "true", "yes", "y", "t", "예", "이탈"}
_FALSE = {"0", "false", "no", "n", "f", "아니오", "유지"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OutcomeFileError(DataValidationError):
    """An outcome file (``customerID``, ``churned``, ``observed_at``) was refused; nothing was written.

    Attributes
    ----------
    source : str
    problems : pandas.DataFrame
        One row per problem: ``column``, ``reason``, ``lines`` (file lines, the header is line 1),
        ``examples`` (offending values).
    """


class NoOutcomesError(LookupError):
    """A campaign has no outcomes yet (nor, perhaps, any ledger rows)."""


@dataclass(frozen=True)
class OutcomeWrite:
    """What an import, a snapshot read or a simulation wrote to ``campaign_outcomes``.

    Attributes
    ----------
    written : int
        Rows written (inserted or replaced), over every campaign.
    campaigns : tuple of str
        Campaigns that got rows.
    unmatched : int
        Import: file rows whose customer is in no campaign planned before ``observed_at``.
        Snapshots: campaign customers without an outcome observed after planning (yet).
    unmatched_examples : tuple of str
        Up to 10 of their customer ids.
    replaced_simulated : int
        Simulated rows deleted because real outcomes (or a new simulation) replaced them.
    simulated : bool
        The rows are simulated.
    """

    written: int
    campaigns: tuple[str, ...]
    unmatched: int = 0
    unmatched_examples: tuple[str, ...] = ()
    replaced_simulated: int = 0
    simulated: bool = False


def campaign_outcomes(wh: Warehouse, campaign_id: str | None = None) -> pd.DataFrame:
    """Rows of ``campaign_outcomes`` (one campaign or all), by campaign and customer.

    Returns
    -------
    pandas.DataFrame of shape (n_rows, 8)
        The declared columns; empty (with them) when the table does not exist yet.
    """
    if not wh.table_exists(CAMPAIGN_OUTCOMES.name):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CAMPAIGN_OUTCOMES.names})
    where, params = ("campaign_id = @c", {"c": campaign_id}) if campaign_id else ("TRUE", {})
    out = wh.query(f"SELECT * FROM {{campaign_outcomes}} WHERE {where} ORDER BY campaign_id, customer_id", params)
    out["observed_at"] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in out["observed_at"]]
    return out


def _planned(wh: Warehouse, campaign_id: str | None = None) -> pd.DataFrame:
    """``campaign_id``, ``customer_id``, ``is_control``, ``planned_on`` (date the campaign was first planned)."""
    where, params = ("campaign_id = @c", {"c": campaign_id}) if campaign_id else ("TRUE", {})
    rows = wh.query(
        f"SELECT campaign_id, customer_id, LOGICAL_OR(is_control) AS is_control, MIN(created_at) AS created_at "
        f"FROM {{outbox}} WHERE {where} GROUP BY campaign_id, customer_id ORDER BY campaign_id, customer_id",
        params,
    )
    if rows.empty:
        return rows.assign(planned_on=pd.Series(dtype=object))
    first = rows.groupby("campaign_id")["created_at"].transform("min")
    stamps = [pd.Timestamp(v) for v in first]
    rows["planned_on"] = [(v.tz_localize("UTC") if v.tzinfo is None else v.tz_convert("UTC")).date() for v in stamps]
    return rows.drop(columns="created_at")


def _write(wh: Warehouse, rows: pd.DataFrame, drop_simulated: tuple[str, ...]) -> int:
    """Delete the simulated rows of ``drop_simulated`` campaigns, then upsert ``rows``; returns rows deleted."""
    wh.ensure_tables()
    deleted = 0
    for cid in drop_simulated:
        deleted += int(wh.execute(
            "DELETE FROM {campaign_outcomes} WHERE campaign_id = @c AND source = 'simulated'", {"c": cid}
        ) or 0)  # fmt: skip
    if len(rows):
        wh.merge_rows(CAMPAIGN_OUTCOMES.name, rows[CAMPAIGN_OUTCOMES.names], update=True)
    return deleted


# -- import ----------------------------------------------------------------------------------------
def _find_columns(headers: tuple[str, ...]) -> tuple[dict[str, str], list[dict]]:
    keys = {h: header_key(h) for h in headers}
    found, problems = {}, []
    for column, aliases in _FILE_COLUMNS.items():
        hits = [h for h in headers if keys[h] in {header_key(column), *aliases}]
        if len(hits) == 1:
            found[column] = hits[0]
        else:
            why = f"matches several headers {hits}" if hits else f"missing (the file has {list(headers)})"
            problems.append({"column": column, "reason": f"required column {why}", "lines": [], "examples": []})
    return found, problems


def _problem(column: str, reason: str, mask: pd.Series, values: pd.Series) -> dict:
    lines = [int(i) + FIRST_DATA_LINE for i in mask.index[mask.to_numpy()]]  # index i is file line i + 2
    examples = [str(v) for v in values[mask].head(5)]
    return {"column": column, "reason": f"{reason} on {len(lines)} line(s)", "lines": lines, "examples": examples}


def _parse_date(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` (a time after it is ignored), ``YYYY/MM/DD`` or ``YYYY.MM.DD``; None otherwise."""
    try:
        return dt.date.fromisoformat(text[:10].replace("/", "-").replace(".", "-"))
    except ValueError:
        return None


def parse_outcome_file(data: bytes, source: str = "<upload>", today: dt.date | None = None) -> pd.DataFrame:
    """Validate an outcome file: ``customerID``, ``churned`` (yes/no, true/false, 1/0), ``observed_at`` (a date).

    Headers match ignoring case, spaces and ``_`` (``customer_id``, ``Churn``, ``observed date`` …).
    Other columns are ignored.

    Parameters
    ----------
    data : bytes
        CSV or Excel (read by :func:`churn_core.data.reading.read_table`).
    source : str
        File name for messages.
    today : datetime.date, optional
        Latest allowed ``observed_at`` (default: today, UTC).

    Returns
    -------
    pandas.DataFrame of shape (n_rows, 4)
        ``customer_id`` (str), ``churned`` (bool), ``observed_at`` (datetime.date), ``line`` (int).

    Raises
    ------
    OutcomeFileError
        Every problem at once: a missing column; empty ids; churned values that are not yes/no;
        dates that do not parse or lie in the future; a customer on several lines.
    DataValidationError
        The file cannot be read (encoding, empty file, bad workbook).
    """
    frame = read_table(data, source).frame
    found, problems = _find_columns(tuple(str(c) for c in frame.columns))
    if problems:
        raise OutcomeFileError(source, pd.DataFrame(problems))
    ids = frame[found["customerID"]].astype("string").str.strip()
    raw_churn = frame[found["churned"]].astype("string").str.strip()
    raw_date = frame[found["observed_at"]].astype("string").str.strip()
    churn_key = raw_churn.str.casefold()
    churned = churn_key.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
    observed = raw_date.astype(object).map(lambda v: None if pd.isna(v) else _parse_date(str(v)))
    limit = today or _now().date()
    checks = [
        ("customerID", "empty customer id", ids.isna() | (ids == ""), ids),
        ("churned", "not yes/no, true/false or 1/0", churned.isna(), raw_churn),
        ("observed_at", "not a date (YYYY-MM-DD)", observed.isna(), raw_date),
        ("observed_at", f"date after today ({limit.isoformat()})",
         observed.map(lambda d: d is not None and d > limit).astype(bool), raw_date),
        ("customerID", "customer on several lines", ids.notna() & ids.duplicated(keep=False), ids),
    ]  # fmt: skip
    problems = [_problem(c, r, m.fillna(True).astype(bool), v) for c, r, m, v in checks if m.fillna(True).any()]
    if problems:
        raise OutcomeFileError(source, pd.DataFrame(problems))
    return pd.DataFrame({
        "customer_id": ids.astype(str).to_numpy(), "churned": churned.astype(bool).to_numpy(),
        "observed_at": observed.to_numpy(), "line": frame.index.to_numpy() + FIRST_DATA_LINE,
    })  # fmt: skip


def import_outcomes(
    wh: Warehouse, file: str | Path | bytes, campaign_id: str | None = None, source: str | None = None,
    now: dt.datetime | None = None,
) -> OutcomeWrite:  # fmt: skip
    """Record the outcomes of a file (``customerID``, ``churned``, ``observed_at``) for the campaigns they follow.

    Each row becomes the outcome (``source = "import"``) of every campaign (or only
    ``campaign_id``) that planned the customer before ``observed_at``; it replaces an earlier
    outcome of that customer in that campaign, and real outcomes replace a campaign's simulated
    ones. Rows of customers in no such campaign are counted (``unmatched``), not written.

    Parameters
    ----------
    file : str, Path or bytes
        The file (CSV or Excel), or its content.
    campaign_id : str, optional
        Only this campaign.
    source : str, optional
        Name for messages (default: the file's name).

    Returns
    -------
    OutcomeWrite

    Raises
    ------
    OutcomeFileError
        A bad file (see :func:`parse_outcome_file`): nothing is written.
    """
    if isinstance(file, bytes):
        data, name = file, source or "<upload>"
    else:
        data, name = Path(file).read_bytes(), source or Path(file).name
    parsed = parse_outcome_file(data, name)
    planned = _planned(wh, campaign_id)
    both = parsed.merge(planned, on="customer_id", how="inner")
    both = both[both["observed_at"] > both["planned_on"]]
    unmatched = sorted(set(parsed["customer_id"]) - set(both["customer_id"]))
    rows = pd.DataFrame({
        "campaign_id": both["campaign_id"], "customer_id": both["customer_id"], "churned": both["churned"],
        "observed_at": both["observed_at"], "source": "import", "outcome_id": None, "assumption": None,
        "recorded_at": now or _now(),
    })  # fmt: skip
    campaigns = tuple(sorted(set(rows["campaign_id"])))
    replaced = _write(wh, rows, campaigns)
    return OutcomeWrite(len(rows), campaigns, len(unmatched), tuple(unmatched[:10]), replaced)


# -- from snapshots --------------------------------------------------------------------------------
def outcomes_from_snapshots(wh: Warehouse, campaign_id: str, now: dt.datetime | None = None) -> OutcomeWrite:
    """Record a campaign's outcomes from the snapshots' ``outcomes`` table (``source = "snapshot"``).

    For each customer of the campaign (matched by lineage id, ``SYN-`` removed), the outcome of
    the latest snapshot ``E`` on or before the day the campaign was planned, observed at the next
    snapshot ``L`` after that day (``OUTCOME_RULE`` of :mod:`churn_core.data.snapshots`): churn
    between the campaign and ``L``. Real outcomes replace the campaign's simulated ones.

    Returns
    -------
    OutcomeWrite
        ``unmatched``: customers of the campaign with no such outcome and none recorded from
        another source (no later snapshot yet, or not active at ``E``).

    Raises
    ------
    NoOutcomesError
        If the campaign has no ledger rows.
    """
    planned = _planned(wh, campaign_id)
    if planned.empty:
        raise NoOutcomesError(f"campaign {campaign_id!r} has no planned customers")
    day = planned["planned_on"].iloc[0]
    seen = pd.DataFrame(columns=["lineage", "churned", "observed_date", "snapshot_date"])
    if wh.table_exists(OUTCOMES.name):
        seen = wh.query(
            "SELECT customer_id, churned, observed_date, snapshot_date FROM {outcomes} "
            "WHERE snapshot_date <= @d AND observed_date > @d ORDER BY snapshot_date DESC, observed_date",
            {"d": day},
        )
        seen["lineage"] = [lineage_id(c) for c in seen["customer_id"]]
        seen = seen.drop_duplicates("lineage")  # the latest E before planning, its first L after it
    planned["lineage"] = [lineage_id(c) for c in planned["customer_id"]]
    both = planned.merge(seen[["lineage", "churned", "observed_date"]], on="lineage", how="left")
    have = both["churned"].notna()
    rows = pd.DataFrame({
        "campaign_id": campaign_id, "customer_id": both.loc[have, "customer_id"],
        "churned": both.loc[have, "churned"].astype(bool), "observed_at": both.loc[have, "observed_date"],
        "source": "snapshot", "outcome_id": None, "assumption": None, "recorded_at": now or _now(),
    })  # fmt: skip
    recorded = set(campaign_outcomes(wh, campaign_id)["customer_id"])  # e.g. imported: not waiting
    missing = sorted(set(both.loc[~have, "customer_id"]) - recorded)
    replaced = _write(wh, rows, (campaign_id,) if len(rows) else ())
    return OutcomeWrite(len(rows), (campaign_id,) if len(rows) else (), len(missing), tuple(missing[:10]), replaced)


# -- simulation ------------------------------------------------------------------------------------
def base_probabilities(wh: Warehouse, customer_ids: list[str]) -> pd.Series:
    """The champion's stored churn probability of each customer (simulation's base rate).

    From the latest completed ``churn-studio score`` run (table ``scores``); customers it did not
    score take the probability of the precomputed analytics (``analytics_customers``).

    Returns
    -------
    pandas.Series of float, indexed by customer_id
        Only customers with a stored probability.
    """
    from churn_core.prediction.batch import latest_run

    found = pd.Series(dtype=float)
    run = latest_run(wh) if wh.table_exists("model_runs") else None
    if run is not None:
        scores = wh.query(
            "SELECT customer_id, churn_probability FROM {scores} WHERE run_id = @r AND customer_id IN UNNEST(@ids)",
            {"r": str(run["run_id"]), "ids": customer_ids},
        )
        found = scores.drop_duplicates("customer_id").set_index("customer_id")["churn_probability"]
    rest = [c for c in customer_ids if c not in found.index]
    if rest and wh.table_exists("analytics_customers"):
        stored = wh.query(
            "SELECT customer_id, churn_probability FROM {analytics_customers} "
            "WHERE churn_probability IS NOT NULL AND customer_id IN UNNEST(@ids)",
            {"ids": rest},
        ).drop_duplicates("customer_id")
        found = pd.concat([found, stored.set_index("customer_id")["churn_probability"]])
    return found.astype(float)


def simulate_outcomes(
    wh: Warehouse, campaign_id: str, assumption: str = DEFAULT_ASSUMPTION, seed: int = 0,
    now: dt.datetime | None = None,
) -> OutcomeWrite:  # fmt: skip
    """Simulate a campaign's outcomes from a treatment-effect assumption (``source = "simulated"``).

    Each planned customer churns per :func:`simulated_churn` with the champion's stored
    probability (:func:`base_probabilities`) and their contract; the draw is seeded (customers
    in id order). Rows get ``outcome_id`` ``SYN-…``, the assumption's name, and
    ``observed_at`` = the planning day + :data:`SIMULATED_OBSERVATION_DAYS`. A new simulation
    replaces the campaign's earlier simulated rows.

    Raises
    ------
    KeyError
        An unknown assumption.
    NoOutcomesError
        The campaign has no planned customers.
    ValueError
        The campaign already has real (snapshot or import) outcomes, or customers without a
        stored churn probability or contract (run ``churn-studio score``); nothing is written.
    """
    if assumption not in TREATMENT_EFFECTS:
        raise KeyError(f"unknown treatment-effect assumption {assumption!r}; known: {sorted(TREATMENT_EFFECTS)}")
    planned = _planned(wh, campaign_id)
    if planned.empty:
        raise NoOutcomesError(f"campaign {campaign_id!r} has no planned customers")
    real = campaign_outcomes(wh, campaign_id)
    real = real[real["source"] != "simulated"]
    if len(real):
        raise ValueError(f"campaign {campaign_id!r} has {len(real)} real outcomes; simulating over them is refused")
    ids = list(planned["customer_id"])
    prob = base_probabilities(wh, ids)
    contract = wh.query(
        "SELECT customer_id, contract FROM {customers} WHERE customer_id IN UNNEST(@ids)", {"ids": ids}
    ).drop_duplicates("customer_id").set_index("customer_id")["contract"]  # fmt: skip
    for what, have in (("a stored churn probability (run `churn-studio score`)", prob), ("a contract", contract)):
        lacking = [c for c in ids if c not in have.index]
        if lacking:
            raise ValueError(f"{len(lacking)} customer(s) of campaign {campaign_id!r} lack {what}: {lacking[:10]}")
    churned = simulated_churn(prob.reindex(ids).to_numpy(), ~planned["is_control"].astype(bool).to_numpy(),
                              contract.reindex(ids).to_numpy(), assumption, np.random.default_rng(seed))  # fmt: skip
    observed = planned["planned_on"].iloc[0] + dt.timedelta(days=SIMULATED_OBSERVATION_DAYS)
    rows = pd.DataFrame({
        "campaign_id": campaign_id, "customer_id": ids, "churned": churned, "observed_at": observed,
        "source": "simulated", "outcome_id": [simulated_outcome_id(campaign_id, c, assumption, seed) for c in ids],
        "assumption": assumption, "recorded_at": now or _now(),
    })  # fmt: skip
    replaced = _write(wh, rows, (campaign_id,))
    return OutcomeWrite(len(rows), (campaign_id,), replaced_simulated=replaced, simulated=True)


# -- report ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CampaignReport:
    """Treated against control for one campaign (intention to treat); see the module docstring.

    Rates and differences are fractions; intervals are 95 % ``(low, high)``; amounts in USD.

    Attributes
    ----------
    campaign_id : str
    channels : tuple of str
    n_treated, n_control : int
        Customers of each group with an outcome.
    churned_treated, churned_control : int
    without_outcome : int
        Planned customers (either group) without an outcome yet: not in the rates.
    rate_treated, rate_control : float
        Churn rates (NaN for an empty group).
    ci_treated, ci_control : tuple of float
        Wilson 95 % intervals.
    difference : float
        ``rate_control - rate_treated`` (positive: the campaign reduced churn).
    ci_difference : tuple of float
        Score (Miettinen-Nurminen) 95 % interval of the difference (Newcombe's when a group's churn
        is 0 % or 100 %).
    p_value : float
        Two-sided score test of no difference.
    detectable_difference : float
        Smallest difference the group sizes detect with 80 % power at 5 % (two-sided), at the
        pooled churn rate (Cohen's h).
    kept, ci_kept : float, tuple of float
        ``difference x n_treated``: customers the campaign kept.
    value_per_customer_usd : float
        Mean of ``monthly_charges x value_months`` over treated customers found in ``customers``.
    discount_cost_usd : float
        ``Settings.offer_cost_usd`` x treated messages delivered (sent or recorded).
    message_cost_usd : float
        Messages delivered x USD per message of their channel.
    net_revenue_usd, ci_net_revenue_usd : float, tuple of float
        ``kept x value_per_customer_usd - discount_cost_usd - message_cost_usd``.
    messages : int
        Treated rows sent or recorded.
    too_small : bool
        The control group is too small to tell (``too_small_reason``: ``"group"`` fewer than
        :data:`MIN_GROUP_SIZE` customers with outcomes in a group, ``"power"`` a detectable
        difference above :data:`MAX_DETECTABLE_DIFFERENCE`).
    simulated : bool
        The outcomes are simulated (``assumption`` names the treatment-effect assumption).
    sources : tuple of str
        Sources of the outcomes.
    """

    campaign_id: str
    channels: tuple[str, ...]
    n_treated: int
    n_control: int
    churned_treated: int
    churned_control: int
    without_outcome: int
    rate_treated: float
    rate_control: float
    ci_treated: tuple[float, float]
    ci_control: tuple[float, float]
    difference: float
    ci_difference: tuple[float, float]
    p_value: float
    detectable_difference: float
    kept: float
    ci_kept: tuple[float, float]
    value_per_customer_usd: float
    discount_cost_usd: float
    message_cost_usd: float
    net_revenue_usd: float
    ci_net_revenue_usd: tuple[float, float]
    messages: int
    too_small: bool
    too_small_reason: str | None
    simulated: bool
    assumption: str | None
    sources: tuple[str, ...]


def message_costs(settings=None) -> dict[str, float]:
    """USD per message by channel code (``Settings.message_cost_usd``; a channel not listed costs 0)."""
    from churn_core.config import get_settings

    return {str(k): float(v) for k, v in (settings or get_settings()).message_cost_usd.items()}


def _wilson(k: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return (float("nan"), float("nan"))
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return (float(low), float(high))


def detectable_difference(n_treated: int, n_control: int, rate: float, power: float = 0.8) -> float:
    """Smallest churn reduction (fraction) detectable with ``power`` at 5 % two-sided, from ``rate``.

    Cohen's h from ``statsmodels.stats.power.NormalIndPower`` for the group sizes, turned into
    the drop from ``rate`` it means; ``rate`` itself when even no churn at all would not show.
    """
    from statsmodels.stats.power import NormalIndPower

    if min(n_treated, n_control) < 2 or not np.isfinite(rate):
        return float("nan")
    h = NormalIndPower().solve_power(nobs1=n_treated, alpha=0.05, power=power, ratio=n_control / n_treated)
    angle = np.arcsin(np.sqrt(rate)) - float(h) / 2
    return float(rate if angle <= 0 else rate - np.sin(angle) ** 2)


def campaign_report(wh: Warehouse, campaign_id: str, settings=None, economics=None) -> CampaignReport:
    """Treated against control churn of a campaign, with costs and net revenue effect (module docstring).

    Parameters
    ----------
    settings : churn_core.config.Settings, optional
        Message costs (default: the settings).
    economics : churn_core.prediction.business.Economics, optional
        Offer cost and customer value months (default: from the settings).

    Returns
    -------
    CampaignReport

    Raises
    ------
    NoOutcomesError
        The campaign has no planned customers or no outcomes yet.
    """
    import warnings

    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    from churn_core.prediction.business import Economics

    economics = economics or Economics.from_settings(settings)
    rows = wh.query(
        "SELECT customer_id, is_control, channel, status FROM {outbox} WHERE campaign_id = @c", {"c": campaign_id}
    )
    if rows.empty:
        raise NoOutcomesError(f"campaign {campaign_id!r} has no planned customers")
    got = campaign_outcomes(wh, campaign_id)
    if got.empty:
        raise NoOutcomesError(f"campaign {campaign_id!r} has no outcomes yet")
    people = rows.groupby("customer_id", as_index=False)["is_control"].max()
    both = people.merge(got[["customer_id", "churned"]], on="customer_id", how="left")
    known = both[both["churned"].notna()]
    control = known["is_control"].astype(bool).to_numpy()
    churned = known["churned"].astype(bool).to_numpy()
    n_t, n_c = int((~control).sum()), int(control.sum())
    k_t, k_c = int(churned[~control].sum()), int(churned[control].sum())
    nan2 = (float("nan"), float("nan"))
    rate_t = k_t / n_t if n_t else float("nan")
    rate_c = k_c / n_c if n_c else float("nan")
    diff, ci_diff, p = float("nan"), nan2, float("nan")
    if n_t and n_c:
        diff = rate_c - rate_t
        # the score interval is not defined when a group's churn is 0 % or 100 %: Newcombe's interval then
        inner = 0 < k_c < n_c and 0 < k_t < n_t
        with warnings.catch_warnings():  # statsmodels also computes odds ratios, undefined at 0 % / 100 %
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = confint_proportions_2indep(k_c, n_c, k_t, n_t, method="score" if inner else "newcomb")
            p = 1.0  # nobody (or everybody) churned in both groups: no difference to test
            if 0 < k_t + k_c < n_t + n_c:
                p = float(test_proportions_2indep(k_c, n_c, k_t, n_t, method="score", compare="diff").pvalue)
        ci_diff = (float(low), float(high))
    mde = detectable_difference(n_t, n_c, (k_t + k_c) / (n_t + n_c) if n_t + n_c else float("nan"))
    reason = None
    if min(n_t, n_c) < MIN_GROUP_SIZE:
        reason = "group"
    elif not np.isfinite(mde) or mde > MAX_DETECTABLE_DIFFERENCE:
        reason = "power"
    treated_rows = rows[~rows["is_control"].astype(bool) & rows["status"].isin(["sent", "recorded"])]
    per_message = message_costs(settings)
    message_cost = float(sum(per_message.get(str(ch), 0.0) for ch in treated_rows["channel"]))
    messages = len(treated_rows)
    discount = float(economics.offer_cost_usd * messages)
    treated_ids = list(known.loc[~control, "customer_id"])
    charges = wh.query(
        "SELECT monthly_charges FROM {customers} WHERE customer_id IN UNNEST(@ids)", {"ids": treated_ids}
    )["monthly_charges"] if treated_ids else pd.Series(dtype=float)  # fmt: skip
    value = float(economics.customer_value(charges).mean()) if len(charges) else float("nan")
    kept, ci_kept = diff * n_t, (ci_diff[0] * n_t, ci_diff[1] * n_t)
    costs = discount + message_cost
    sources = tuple(sorted(set(got["source"].dropna())))
    assumptions = sorted(set(got["assumption"].dropna()))
    return CampaignReport(
        campaign_id=campaign_id, channels=tuple(sorted(set(rows["channel"]))), n_treated=n_t, n_control=n_c,
        churned_treated=k_t, churned_control=k_c, without_outcome=int(both["churned"].isna().sum()),
        rate_treated=rate_t, rate_control=rate_c, ci_treated=_wilson(k_t, n_t), ci_control=_wilson(k_c, n_c),
        difference=diff, ci_difference=ci_diff, p_value=p, detectable_difference=mde, kept=kept, ci_kept=ci_kept,
        value_per_customer_usd=value, discount_cost_usd=discount, message_cost_usd=message_cost,
        net_revenue_usd=kept * value - costs,
        ci_net_revenue_usd=(ci_kept[0] * value - costs, ci_kept[1] * value - costs),
        messages=messages, too_small=reason is not None, too_small_reason=reason, simulated="simulated" in sources,
        assumption=", ".join(assumptions) or None, sources=sources,
    )  # fmt: skip


def report_table(report: CampaignReport, lang: str = "ko") -> pd.DataFrame:
    """The report as a table for display and download, labelled in ``lang``.

    Returns
    -------
    pandas.DataFrame of shape (n_measures, 5)
        Columns (translated): measure, estimate, 95 % low, 95 % high, unit. Rates as fractions,
        amounts in USD. With simulated outcomes every measure is prefixed by the simulated label.
    """
    from churn_core.i18n import t

    r = report
    rows = [
        ("n_treated", r.n_treated, None, None, "customers"),
        ("n_control", r.n_control, None, None, "customers"),
        ("without_outcome", r.without_outcome, None, None, "customers"),
        ("rate_treated", r.rate_treated, *r.ci_treated, "fraction"),
        ("rate_control", r.rate_control, *r.ci_control, "fraction"),
        ("difference", r.difference, *r.ci_difference, "fraction"),
        ("p_value", r.p_value, None, None, "p"),
        ("detectable", r.detectable_difference, None, None, "fraction"),
        ("kept", r.kept, *r.ci_kept, "customers"),
        ("value", r.value_per_customer_usd, None, None, "usd"),
        ("discount_cost", r.discount_cost_usd, None, None, "usd"),
        ("message_cost", r.message_cost_usd, None, None, "usd"),
        ("net_revenue", r.net_revenue_usd, *r.ci_net_revenue_usd, "usd"),
    ]
    prefix = t("cres.simulated_prefix", lang, assumption=r.assumption or "") if r.simulated else ""
    return pd.DataFrame(
        {
            t("cres.col_measure", lang): [prefix + t(f"cres.m_{k}", lang) for k, *_ in rows],
            t("cres.col_estimate", lang): [float(v) for _, v, *_ in rows],
            t("cres.col_low", lang): [np.nan if lo is None else float(lo) for _, _, lo, _, _ in rows],
            t("cres.col_high", lang): [np.nan if hi is None else float(hi) for *_, hi, _ in rows],
            t("cres.col_unit", lang): [t(f"cres.unit_{u}", lang) for *_, u in rows],
        }
    )


def report_figure(report: CampaignReport, lang: str = "ko"):
    """Churn rate of the treated and control groups with their Wilson 95 % intervals.

    Returns
    -------
    plotly.graph_objects.Figure
        Two bars with error bars; the title says "simulated" when the outcomes are.
    """
    import plotly.graph_objects as go

    from churn_core.i18n import t

    r = report
    rates = [r.rate_treated, r.rate_control]
    lows, highs = [r.ci_treated[0], r.ci_control[0]], [r.ci_treated[1], r.ci_control[1]]
    fig = go.Figure(
        go.Bar(
            x=[t("cres.group_treated", lang), t("cres.group_control", lang)], y=rates,
            marker_color=["#1F77B4", "#7F7F7F"],
            error_y={"type": "data", "symmetric": False, "array": [h - v for h, v in zip(highs, rates, strict=True)],
                     "arrayminus": [v - lo for v, lo in zip(rates, lows, strict=True)]},
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )  # fmt: skip
    from churn_core.escaping import html_text

    title = t("cres.chart_title", lang)
    if r.simulated:  # plotly titles read HTML tags: the name is escaped
        title = t("cres.simulated_prefix", lang, assumption=html_text(r.assumption or "")) + title
    fig.update_layout(title=title, yaxis={"tickformat": ".0%", "rangemode": "tozero"}, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 86, "b": 10})  # fmt: skip
    return fig
