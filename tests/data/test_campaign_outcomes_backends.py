"""Campaign outcomes read and write the same on DuckDB and on the local BigQuery emulator (issue #15):
their SQL (LOGICAL_OR and MIN over the ledger, IN UNNEST, DELETE of a campaign's simulated rows, the
MERGE upsert, DATE comparisons with the snapshots' ``outcomes``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.tables import OUTBOX, OUTCOMES
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.outreach import outcomes
from tests.helpers.warehouses import new_bigquery_warehouse

pytestmark = pytest.mark.data

AT = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["duckdb", "bigquery"])
def tables(request, tmp_path):
    """An empty warehouse of each backend with the declared tables and 80 customers."""
    if request.param == "duckdb":
        wh = DuckDBWarehouse(tmp_path / "w.duckdb", RAW_CUSTOMERS_CSV)
    else:
        wh = new_bigquery_warehouse(request.getfixturevalue("bq_endpoint"))
    wh.ensure_tables()
    ids = [f"B{i:03d}" for i in range(80)]
    wh.replace_table("customers", pd.DataFrame({"customer_id": ids, "contract": ["Month-to-month", "Two year"] * 40,
                                                "monthly_charges": 70.0}))  # fmt: skip
    yield wh, ids
    wh.close()


def test_simulate_import_snapshots_and_report_on_both_backends(tables) -> None:
    wh, ids = tables
    control = [i % 2 == 0 for i in range(80)]
    rows = pd.DataFrame({name: None for name, _ in OUTBOX.columns}, index=range(80))
    wh.merge_rows("outbox", rows.assign(campaign_id="k", customer_id=ids, channel="sms", is_control=control,
                                        status=np.where(control, "skipped", "recorded"), attempts=1, created_at=AT,
                                        updated_at=AT))  # fmt: skip
    wh.append_rows("scores", pd.DataFrame({"run_id": "r", "customer_id": ids, "churn_probability": 0.5,
                   "risk_score": 50.0, "risk_tier": "high", "expected_profit_usd": 0.0, "clv_usd": 0.0,
                   "revenue_at_risk_12m_usd": 0.0, "scored_at": AT}))  # fmt: skip
    wh.append_rows("model_runs", pd.DataFrame([{"run_id": "r", "kind": "score", "model_sha256": "x", "backend": "b",
                   "started_at": AT, "finished_at": AT, "n_rows": 80, "status": "done", "details": "{}"}]))  # fmt: skip
    done = outcomes.simulate_outcomes(wh, "k", "m2m_only", seed=5)
    expected = outcomes.simulated_churn(np.full(80, 0.5), ~np.array(control), ["Month-to-month", "Two year"] * 40,
                                        "m2m_only", np.random.default_rng(5))  # fmt: skip
    got = outcomes.campaign_outcomes(wh, "k")
    assert done.written == 80 and got["churned"].astype(bool).tolist() == expected.tolist()
    report = outcomes.campaign_report(wh, "k")
    assert report.simulated and (report.n_treated, report.n_control) == (40, 40)
    assert report.churned_treated + report.churned_control == int(expected.sum())
    assert report.value_per_customer_usd == pytest.approx(70.0 * 12) and report.messages == 40

    text = "customerID,churned,observed_at\n" + "".join(f"{c},{'yes' if i < 30 else 'no'},2026-11-15\n"
                                                        for i, c in enumerate(ids[:60]))  # fmt: skip
    imported = outcomes.import_outcomes(wh, text.encode(), source="obs.csv")
    assert (imported.written, imported.replaced_simulated, imported.campaigns) == (60, 80, ("k",))
    assert set(outcomes.campaign_outcomes(wh, "k")["source"]) == {"import"}

    wh.merge_rows(OUTCOMES.name, pd.DataFrame({"snapshot_date": dt.date(2026, 9, 30), "customer_id": ids[60:],
                                               "churned": True, "observed_date": dt.date(2026, 10, 31), "rule": "r",
                                               "recorded_at": AT}))  # fmt: skip
    snap = outcomes.outcomes_from_snapshots(wh, "k")
    assert snap.written == 20 and snap.unmatched == 0  # the imported customers are not waiting for one
    final = outcomes.campaign_outcomes(wh, "k")
    assert len(final) == 80 and set(final["observed_at"]) == {dt.date(2026, 11, 15), dt.date(2026, 10, 31)}
    assert not outcomes.campaign_report(wh, "k").simulated
