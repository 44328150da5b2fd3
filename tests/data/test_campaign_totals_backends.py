"""A campaign's totals and send outlook read the same on DuckDB and on the local BigQuery emulator
(their SQL: COUNTIF, IF, GROUP BY over the ledger, comparisons with ``scheduled_for``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.outreach import campaigns as outreach
from churn_core.outreach.compliance import KST
from tests.helpers.outreach_doubles import NIGHT, SENDER, Clock, consented
from tests.helpers.warehouses import new_bigquery_warehouse

pytestmark = pytest.mark.data


@pytest.fixture(params=["duckdb", "bigquery"])
def tables(request, tmp_path):
    """An empty warehouse of each backend with the declared tables only."""
    if request.param == "duckdb":
        wh = DuckDBWarehouse(tmp_path / "w.duckdb", RAW_CUSTOMERS_CSV)
    else:
        wh = new_bigquery_warehouse(request.getfixturevalue("bq_endpoint"))
    wh.ensure_tables()
    yield wh
    wh.close()


def test_night_hold_then_morning_totals_on_both_backends(tables) -> None:
    ids = [f"B{i}" for i in range(5)]
    book = pd.DataFrame({"customer_id": ids, "name": ids, "phone_e164": [f"+8210444{i:05d}" for i in range(5)],
                         "email": None, "preferred_channel": "sms", "gu": None, "is_demo": False,
                         "sms_consent": True, "night_consent": [True] + [False] * 4})  # fmt: skip
    consented(tables, book)
    outreach.plan(tables, "both", book[["customer_id"]].assign(risk_tier="high"), "sms", 0.0, "kim", NIGHT)
    clock = Clock(NIGHT)
    options = outreach.SendOptions(sleep=clock.sleep, now=clock)
    assert outreach.send(tables, "both", outreach.OutboxOnlyChannel("sms"), SENDER, book, {}, options)["held"] == 4
    eight = dt.datetime(2026, 11, 24, 8, 0, tzinfo=KST)
    totals = outreach.campaign_totals(tables, "both", "sms")
    assert (totals.recorded, totals.held, totals.held_quiet_hours, totals.total) == (1, 4, 4, 5)
    assert totals.held_until == eight
    look = outreach.send_outlook(tables, "both", "sms", book, False, NIGHT + dt.timedelta(minutes=5), SENDER)
    assert (look.go_now, look.held, look.due, look.held_until) == (0, 4, 0, eight)
    morning = outreach.send_outlook(tables, "both", "sms", book, False, eight, SENDER)
    assert (morning.go_now, morning.held, morning.due, morning.held_until) == (4, 0, 4, None)
