"""``churn-studio uplift``: fit → evaluate → audience on a campaign with simulated outcomes, run in-process
with typer's CliRunner on a private warehouse (issue #15); every number labelled SIMULATED."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from churn_core import cli
from churn_core.config import get_settings
from churn_core.studio import open_studio_warehouse
from churn_core.uplift import storage

pytestmark = pytest.mark.unit
runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(cli.app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_fit_evaluate_and_rank_an_audience(private_settings) -> None:
    none_yet = runner.invoke(cli.app, ["uplift", "fit", "--campaign", "pilot"])
    assert none_yet.exit_code == 1 and "no outcomes for campaign(s) ['pilot']" in none_yet.output
    assert "simulate-outcomes" in none_yet.output  # says what to run
    assert runner.invoke(cli.app, ["uplift", "evaluate"]).exit_code == 1

    _run("score", "--chunk-rows", "4000")
    _run("campaign", "plan", "pilot", "--all-active", "--control-share", "0.5", "--no-consented-only")
    _run("campaign", "simulate-outcomes", "pilot", "--effect", "m2m_only", "--seed", "4")

    fitted = _run("uplift", "fit", "--campaign", "pilot", "--folds", "3")
    assert "SIMULATED outcomes (assumption: m2m_only)" in fitted
    directory = storage.uplift_dir(get_settings())
    assert directory == private_settings / "uplift"  # beside the warehouse file, never the developer's data/
    card = json.loads((directory / storage.CARD_FILE).read_text(encoding="utf-8"))
    wh = open_studio_warehouse()
    n = int(wh.query("SELECT COUNT(*) AS n FROM {campaign_outcomes} WHERE campaign_id = 'pilot'")["n"].iloc[0])
    assert card["campaigns"] == ["pilot"] and card["simulated"] and card["assumptions"] == ["m2m_only"]
    assert card["n"] == n == card["n_treated"] + card["n_control"]
    by = pd.DataFrame(card["by_contract"]).set_index("contract")
    assert by.loc["Month-to-month", "predicted_uplift"] > by.loc["Two year", "predicted_uplift"]
    evaluation = storage.read_evaluation(directory)
    assert evaluation.simulated and evaluation.n == n
    assert list(evaluation.table["ranking"]) == ["uplift", "risk", "random"]
    for row in evaluation.table.itertuples():  # the printed table is the stored one
        assert f"{row.qini:,.1f}" in fitted and f"{row.auuc:,.1f}" in fitted

    evaluated = _run("uplift", "evaluate")
    assert "SIMULATED" in evaluated and f"{n:,} customers" in evaluated

    out = private_settings / "audience.csv"
    ranked = _run("uplift", "audience", "--size", "25", "--csv", str(out))
    assert "top 25 by expected incremental profit: expected kept" in ranked and "top 25 by churn risk" in ranked
    assert "SIMULATED" in ranked
    table = pd.read_csv(out)
    assert len(table) == 25 and table["simulated"].all()
    assert table["expected_profit_usd"].is_monotonic_decreasing
    assert table["expected_profit_usd"].to_numpy() == pytest.approx(
        table["uplift"] * table["value_usd"] - get_settings().offer_cost_usd
    )
    wh.close()
