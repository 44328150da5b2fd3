"""Consent history (정보통신망법 §50): an append-only record of grants and withdrawals.

Every change of a customer's marketing consent is one row of the warehouse table
``consent_events`` (:data:`churn_core.data.tables.CONSENT_EVENTS`): who (``customer_id``),
which channel (``sms``, ``email``, ``night`` for night-time sends, or ``all``), what
(``granted`` or ``withdrawn``), when it happened (``occurred_at``), where it came from
(``source``: ``import``, ``unsubscribe_link``, ``privacy_form``, ``staff``, ``demo``), the
evidence (a file name and line, a token id, a note) and who recorded it when. Rows are
never updated or deleted; the current state of a customer is the latest event per channel.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from churn_core.data.tables import CONSENT_EVENTS
from churn_core.data.warehouse import Warehouse

#: Channels a consent event can concern (``all`` withdraws or grants every channel at once).
CHANNELS: tuple[str, ...] = ("sms", "email", "night", "all")
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
