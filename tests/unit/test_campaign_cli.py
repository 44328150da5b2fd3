"""``churn-studio campaign``: plan → send (outbox) → simulate-outcomes → report, and import-outcomes
refusing a bad file, run in-process with typer's CliRunner on a private warehouse (issue #15)."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from churn_core import cli
from churn_core.outreach import outcomes
from churn_core.studio import open_studio_warehouse

pytestmark = pytest.mark.unit
runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(cli.app, ["campaign", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_plan_send_simulate_report_and_a_refused_import(private_settings) -> None:
    assert runner.invoke(cli.app, ["score", "--chunk-rows", "4000"]).exit_code == 0  # the champion's probabilities
    planned = _run("plan", "pilot", "--all-active", "--control-share", "0.5", "--by", "tester")
    assert "pilot on sms (every active customer)" in planned and "control group" in planned
    sent = _run("send", "pilot")
    assert "recorded in the outbox (not sent" in sent
    wh = open_studio_warehouse()
    ledger = wh.query("SELECT is_control, status, triggered_by FROM {outbox} WHERE campaign_id = 'pilot'")
    assert set(ledger["triggered_by"]) == {"tester"} and ledger["is_control"].mean() == pytest.approx(0.5, abs=0.1)
    assert (ledger.loc[~ledger["is_control"], "status"] == "recorded").any()  # outbox-only: nothing really sent

    simulated = _run("simulate-outcomes", "pilot", "--effect", "m2m_only", "--seed", "3")
    assert "SIMULATED outcomes for pilot" in simulated and f"{len(ledger):,} customers" in simulated
    rows = outcomes.campaign_outcomes(wh, "pilot")
    assert len(rows) == len(ledger) and rows["outcome_id"].str.startswith("SYN-").all()

    out = private_settings / "report.csv"
    report = _run("report", "pilot", "--csv", str(out))
    assert "SIMULATED outcomes (assumption m2m_only)" in report and "Net revenue effect" in report
    table = pd.read_csv(out)
    expected = outcomes.report_table(outcomes.campaign_report(wh, "pilot"), "en")
    assert list(table.columns) == list(expected.columns)
    assert table.iloc[:, 0].str.startswith("[Simulated").all()
    assert table.iloc[:, 1].to_numpy() == pytest.approx(expected.iloc[:, 1].to_numpy(), nan_ok=True)

    bad = private_settings / "bad.csv"
    bad.write_text("customerID,churned,observed_at\n0002-ORFBO,maybe,2019-10-31\n", encoding="utf-8")
    refused = runner.invoke(cli.app, ["campaign", "import-outcomes", str(bad)])
    assert refused.exit_code == 1 and "line(s) 2" in refused.output and "churned" in refused.output
    assert set(outcomes.campaign_outcomes(wh, "pilot")["source"]) == {"simulated"}  # nothing written
    unknown = runner.invoke(cli.app, ["campaign", "simulate-outcomes", "pilot", "--effect", "huge"])
    assert unknown.exit_code == 1 and "known" in unknown.output
    wh.close()
