"""Consent history (정보통신망법 §50): an append-only record of grants and withdrawals.

Every change of a customer's marketing consent is one row of the warehouse table
``consent_events`` (:data:`churn_core.data.tables.CONSENT_EVENTS`): who (``customer_id``),
which channel (``sms``, ``email``, ``night`` for night-time sends, or ``all``), what
(``granted`` or ``withdrawn``), when it happened (``occurred_at``), where it came from
(``source``: ``import``, ``unsubscribe_link``, ``privacy_form``, ``staff``, ``demo``), the
evidence (a file name and line, a token id, a note) and who recorded it when. Rows are
never updated or deleted; the current state of a customer is the latest event per channel.

How the current state is read (:func:`current_consent`, one SQL query in the warehouse):

* per customer and channel (``sms``, ``email``, ``night``) the latest event counts, where an
  event on ``all`` counts for every channel: a withdrawal on ``all`` (an opt-out) overrides
  every channel until a newer grant; a grant on ``all`` grants every channel;
* events are ordered by ``occurred_at`` (when it happened, not when it was recorded), so an
  older file re-imported later can never undo a newer opt-out; at equal times a withdrawal
  wins over a grant;
* events dated after ``as_of`` do not count yet;
* demo events (source ``demo``) count only while the customer's contact is a demo contact.

A grant counts for advertising for :data:`~churn_core.outreach.compliance.CONSENT_VALIDITY_YEARS`
years (§50⑧, :func:`churn_core.outreach.compliance.consent_expired`);
:func:`reconfirmation_due` lists the grants to reconfirm. Every send reads this state again
just before it sends (:func:`churn_core.outreach.campaigns.send`), never a cached copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from churn_core.data.tables import CONSENT_EVENTS
from churn_core.data.warehouse import Warehouse
from churn_core.outreach.compliance import KST, RECONFIRM_NOTICE_DAYS, consent_expires_at

#: Channels a consent event can concern (``all`` withdraws or grants every channel at once).
CHANNELS: tuple[str, ...] = ("sms", "email", "night", "all")
#: The channels a consent state is read for (``all`` events count for each of them).
CONSENT_CHANNELS: tuple[str, ...] = ("sms", "email", "night")
#: Columns of :func:`current_consent`.
CONSENT_COLUMNS: tuple[str, ...] = (
    "sms_consent", "sms_consent_at", "email_consent", "email_consent_at", "night_consent", "night_consent_at",
    "opted_out", "opted_out_at",
)  # fmt: skip
EVENTS: tuple[str, ...] = ("granted", "withdrawn")
SOURCES: tuple[str, ...] = ("import", "unsubscribe_link", "privacy_form", "staff", "demo")


def record_events(wh: Warehouse, events: pd.DataFrame) -> int:
    """Append consent events (columns of :data:`CONSENT_EVENTS`; ``recorded_at`` filled if missing).

    Returns
    -------
    int
        Rows appended.

    Raises
    ------
    ValueError
        If a row has an unknown channel, event or source, or no ``customer_id``.
    """
    df = events.copy()
    if "recorded_at" not in df or df["recorded_at"].isna().any():
        df["recorded_at"] = dt.datetime.now(dt.UTC)
    problems = []
    for column, allowed in (("channel", CHANNELS), ("event", EVENTS), ("source", SOURCES)):
        bad = ~df[column].isin(allowed)
        if bad.any():
            problems.append(f"{column} not in {list(allowed)} at rows {list(df.index[bad])}")
    if df["customer_id"].isna().any() or (df["customer_id"].astype(str).str.strip() == "").any():
        problems.append("customer_id missing")
    if problems:
        raise ValueError("consent events refused: " + "; ".join(problems))
    return wh.append_rows(CONSENT_EVENTS.name, df[list(CONSENT_EVENTS.names)])


def record_opt_out(
    wh: Warehouse,
    customer_id: str,
    source: str,
    evidence: str,
    channel: str = "all",
    occurred_at: dt.datetime | None = None,
    recorded_by: str = "recipient",
) -> None:
    """Record at once that ``customer_id`` withdrew consent on ``channel`` (``all`` by default).

    Raises
    ------
    ValueError
        As :func:`record_events`.
    """
    now = dt.datetime.now(dt.UTC)
    record_events(
        wh,
        pd.DataFrame(
            [
                {
                    "customer_id": customer_id, "channel": channel, "event": "withdrawn",
                    "occurred_at": occurred_at or now, "source": source, "evidence": evidence,
                    "recorded_by": recorded_by, "recorded_at": now,
                }
            ]
        ),
    )  # fmt: skip


_CONSENT_SQL = """
WITH events AS (
  SELECT e.customer_id, e.channel, e.event, e.occurred_at, e.recorded_at
  FROM {consent_events} AS e
  LEFT JOIN (SELECT customer_id, LOGICAL_OR(COALESCE(is_demo, FALSE)) AS is_demo
             FROM {contacts} GROUP BY customer_id) AS c
    ON c.customer_id = e.customer_id
  WHERE e.occurred_at <= @as_of AND (e.source != 'demo' OR COALESCE(c.is_demo, FALSE))__IDS__
),
per_channel AS (
  SELECT e.customer_id, ch AS channel, e.event, e.occurred_at, e.recorded_at, e.channel = 'all' AS via_all
  FROM events AS e CROSS JOIN UNNEST(['sms', 'email', 'night']) AS ch
  WHERE e.channel = ch OR e.channel = 'all'
),
latest AS (
  SELECT * FROM per_channel
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY customer_id, channel
    ORDER BY occurred_at DESC, IF(event = 'withdrawn', 0, 1), recorded_at DESC
  ) = 1
),
state AS (
  SELECT customer_id,
    LOGICAL_OR(channel = 'sms' AND event = 'granted') AS sms_consent,
    MAX(IF(channel = 'sms' AND event = 'granted', occurred_at, NULL)) AS sms_consent_at,
    LOGICAL_OR(channel = 'email' AND event = 'granted') AS email_consent,
    MAX(IF(channel = 'email' AND event = 'granted', occurred_at, NULL)) AS email_consent_at,
    LOGICAL_OR(channel = 'night' AND event = 'granted') AS night_consent,
    MAX(IF(channel = 'night' AND event = 'granted', occurred_at, NULL)) AS night_consent_at,
    LOGICAL_AND(via_all AND event = 'withdrawn') AS opted_out,
    MAX(IF(via_all AND event = 'withdrawn', occurred_at, NULL)) AS withdrawn_at
  FROM latest
  GROUP BY customer_id
)
SELECT customer_id, sms_consent, sms_consent_at, email_consent, email_consent_at, night_consent,
  night_consent_at, opted_out, IF(opted_out, withdrawn_at, NULL) AS opted_out_at
FROM state
ORDER BY customer_id
"""


def current_consent(
    wh: Warehouse, customer_ids: Iterable[str] | None = None, as_of: dt.datetime | None = None
) -> pd.DataFrame:
    """The consent in force per customer: the latest event per channel (see the module docstring).

    Computed in the warehouse (BigQuery SQL, ``QUALIFY ROW_NUMBER()`` over the history; DuckDB
    after translation).

    Parameters
    ----------
    wh : Warehouse
    customer_ids : iterable of str, optional
        Only these customers (default: everyone with a consent event).
    as_of : datetime.datetime, optional
        Timezone-aware moment to read the state at (default: now); later events do not count.

    Returns
    -------
    pandas.DataFrame
        One row per customer with at least one counting event, ordered by ``customer_id``:
        ``sms_consent``, ``email_consent``, ``night_consent`` (bool: the latest event on that
        channel or on ``all`` is a grant), ``*_consent_at`` (UTC time of that grant, NaT
        without one), ``opted_out`` (bool: every channel's latest event is a withdrawal on
        ``all``) and ``opted_out_at``. Customers without events are absent: they have no
        consent (see :func:`attach_consent`).
    """
    when = as_of or dt.datetime.now(dt.UTC)
    params: dict = {"as_of": when}
    ids_clause = ""
    if customer_ids is not None:
        ids = sorted({str(c) for c in customer_ids})
        if not ids:
            return _empty_consent()
        params["ids"], ids_clause = ids, " AND e.customer_id IN UNNEST(@ids)"
    out = wh.query(_CONSENT_SQL.replace("__IDS__", ids_clause), params)
    if out.empty:
        return _empty_consent()
    for col in ("sms_consent_at", "email_consent_at", "night_consent_at", "opted_out_at"):
        out[col] = pd.to_datetime(out[col], utc=True)
    for col in ("sms_consent", "email_consent", "night_consent", "opted_out"):
        out[col] = out[col].fillna(False).astype(bool)
    return out[["customer_id", *CONSENT_COLUMNS]].reset_index(drop=True)


def _empty_consent() -> pd.DataFrame:
    out = pd.DataFrame({"customer_id": pd.Series(dtype=object)})
    for col in CONSENT_COLUMNS:
        out[col] = pd.Series(dtype=bool) if not col.endswith("_at") else pd.Series(dtype="datetime64[us, UTC]")
    return out


def attach_consent(contacts: pd.DataFrame, consent: pd.DataFrame) -> pd.DataFrame:
    """``contacts`` with the consent columns of ``consent`` (customers without events: no consent).

    Consent columns already in ``contacts`` are replaced: a contact book never carries consent
    of its own.

    Returns
    -------
    pandas.DataFrame
        ``contacts`` (same rows, same order) plus :data:`CONSENT_COLUMNS`.
    """
    base = contacts.drop(columns=[c for c in CONSENT_COLUMNS if c in contacts.columns])
    out = base.merge(consent[["customer_id", *CONSENT_COLUMNS]], on="customer_id", how="left")
    for col in ("sms_consent", "email_consent", "night_consent", "opted_out"):
        out[col] = out[col].astype("boolean").fillna(False).astype(bool)
    return out


def history(wh: Warehouse, customer_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The consent events (all of them, or of ``customer_ids``), oldest first.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`churn_core.data.tables.CONSENT_EVENTS`.
    """
    if customer_ids is None:
        return wh.query("SELECT * FROM {consent_events} ORDER BY occurred_at, recorded_at, customer_id")
    ids = sorted({str(c) for c in customer_ids})
    if not ids:
        return pd.DataFrame(columns=CONSENT_EVENTS.names)
    sql = "SELECT * FROM {consent_events} WHERE customer_id IN UNNEST(@ids) ORDER BY occurred_at, recorded_at"
    return wh.query(sql, {"ids": ids})


def day_start(day) -> pd.Timestamp:
    """A calendar date (as written in a file) as the instant it began in Korea (UTC)."""
    return pd.Timestamp(day).tz_localize(None).normalize().tz_localize(KST).tz_convert("UTC")


#: Flag columns of a contact file → (date column, consent channel).
FLAG_EVENTS: dict[str, tuple[str, str]] = {
    "sms_consent": ("sms_consent_date", "sms"),
    "email_consent": ("email_consent_date", "email"),
    "night_consent": ("night_consent_date", "night"),
    "opted_out": ("opted_out_date", "all"),
}


def events_from_flags(rows: pd.DataFrame, source: str, evidence: str | pd.Series, recorded_by: str) -> pd.DataFrame:
    """Dated consent events from a contact file's flags (import, demo book, the old contacts table).

    Rules: ``X_consent`` yes with a date → ``granted`` on X at that date; ``X_consent`` no
    *with* a date → ``withdrawn`` on X at that date; ``opted_out`` yes with a date →
    ``withdrawn`` on ``all``. A flag without a date says nothing (no event): consent must be
    provable, and an undated "no" in an old export must not erase a later grant. Dates are
    the start of that day in Korea (:func:`day_start`).

    Parameters
    ----------
    rows : pandas.DataFrame
        ``customer_id`` and any of the flag and date columns of :data:`FLAG_EVENTS`.
    evidence : str or pandas.Series
        One text for all rows, or one per row (aligned with ``rows``).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`churn_core.data.tables.CONSENT_EVENTS` (``recorded_at`` empty: set
        when recorded).
    """
    proof = evidence if isinstance(evidence, pd.Series) else pd.Series(evidence, index=rows.index)
    out = []
    for flag, (date_col, channel) in FLAG_EVENTS.items():
        if flag not in rows or date_col not in rows:
            continue
        dated = rows[rows[date_col].notna() & rows[flag].notna()]
        for idx, r in dated.iterrows():
            yes = bool(r[flag])
            if flag == "opted_out" and not yes:
                continue  # "not opted out" is not a grant
            out.append({
                "customer_id": r["customer_id"], "channel": channel,
                "event": "withdrawn" if (flag == "opted_out" or not yes) else "granted",
                "occurred_at": day_start(r[date_col]), "source": source, "evidence": str(proof.loc[idx]),
                "recorded_by": recorded_by, "recorded_at": pd.NaT,
            })  # fmt: skip
    if not out:
        return pd.DataFrame(columns=CONSENT_EVENTS.names)
    return pd.DataFrame(out, columns=CONSENT_EVENTS.names)


def reconfirmation_terms() -> dict[str, int]:
    """The §50⑧ terms for messages: ``years`` a grant lasts, ``days`` of notice before it expires."""
    from churn_core.outreach.compliance import CONSENT_VALIDITY_YEARS

    return {"years": CONSENT_VALIDITY_YEARS, "days": RECONFIRM_NOTICE_DAYS}


def reconfirmation_due(
    wh: Warehouse, as_of: dt.datetime | None = None, within_days: int = RECONFIRM_NOTICE_DAYS
) -> pd.DataFrame:
    """Who is due a §50⑧ reconfirmation notice: grants in force that expire within ``within_days``.

    A grant expires :data:`~churn_core.outreach.compliance.CONSENT_VALIDITY_YEARS` years after it
    was given; it is due once it is older than that minus ``within_days``. Grants already
    expired are listed too (``expired`` True): they are no longer used until reconfirmed.
    Opted-out customers are not listed (they withdrew; nothing to reconfirm).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``name``, ``channel``, ``address`` (mobile for ``sms`` and ``night``,
        e-mail for ``email``), ``granted_at``, ``expires_at`` (UTC), ``expired``, ``is_demo``;
        soonest expiry first.
    """
    when = pd.Timestamp(as_of or dt.datetime.now(dt.UTC)).tz_convert("UTC")
    consent = current_consent(wh, as_of=when.to_pydatetime())
    consent = consent[~consent["opted_out"]]
    rows = []
    for channel in CONSENT_CHANNELS:
        granted = consent[consent[f"{channel}_consent"] & consent[f"{channel}_consent_at"].notna()]
        for cid, at in zip(granted["customer_id"], granted[f"{channel}_consent_at"], strict=True):
            expires = consent_expires_at(at)
            if expires - pd.Timedelta(days=within_days) <= when:
                rows.append({"customer_id": cid, "channel": channel, "granted_at": at, "expires_at": expires,
                             "expired": bool(expires <= when)})  # fmt: skip
    columns = ["customer_id", "name", "channel", "address", "granted_at", "expires_at", "expired", "is_demo"]
    if not rows:
        return pd.DataFrame(columns=columns)
    due = pd.DataFrame(rows)
    book = wh.query(
        "SELECT customer_id, name, phone_e164, email, is_demo FROM {contacts} WHERE customer_id IN UNNEST(@ids)",
        {"ids": sorted(set(due["customer_id"]))},
    )
    due = due.merge(book, on="customer_id", how="left")
    due["address"] = due["email"].where(due["channel"] == "email", due["phone_e164"])
    return due.sort_values(["expires_at", "customer_id", "channel"])[columns].reset_index(drop=True)
