"""The two commands, run in-process with typer's CliRunner on temporary files."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from churn_core import cli
from churn_core.auth import authenticate
from churn_core.config import RAW_LOCATIONS_DIR, get_settings
from scrapers import cli as locations_cli

pytestmark = pytest.mark.unit
runner = CliRunner()


@pytest.fixture
def private_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("CHURN_WAREHOUSE_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("CHURN_LOCATIONS_DIR", str(tmp_path / "locations"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_locations_build_writes_table_rejects_report_and_warehouse(private_settings) -> None:
    result = runner.invoke(locations_cli.app, ["build", "--raw-dir", str(RAW_LOCATIONS_DIR)])
    assert result.exit_code == 0, result.output
    report = json.loads((private_settings / "locations" / "report.json").read_text(encoding="utf-8"))
    assert report["rows"] == 1447 and report["dong_or_better_share"] > 0.85
    info = runner.invoke(cli.app, ["warehouse", "info"])
    assert re.search(r"locations\s+1447", info.output), info.output


def test_score_command_writes_every_customer_back(private_settings) -> None:
    result = runner.invoke(cli.app, ["score", "--chunk-rows", "3000"])
    assert result.exit_code == 0, result.output
    assert "7,043 customers" in result.output
    info = runner.invoke(cli.app, ["warehouse", "info"]).output
    assert re.search(r"scores\s+7043", info) and re.search(r"model_runs\s+1", info)
    # the run changed the monitoring data: Home's alerts are stored again for it, not left to the health page
    assert "stored for Home" in result.output
    from churn_core.monitoring.health import stored_latest_alerts
    from churn_core.studio import open_studio_warehouse

    wh = open_studio_warehouse(get_settings())
    try:
        assert stored_latest_alerts(wh) is not None
    finally:
        wh.close()


def test_user_hash_prints_an_entry_that_signs_in() -> None:
    result = runner.invoke(
        cli.app, ["user-hash", "kim", "--role", "staff"], input="a long passphrase\na long passphrase\n"
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("CHURN_STAFF_USERS="))
    users = json.loads(line.split("=", 1)[1].strip("'"))
    assert authenticate(users, "kim", "a long passphrase") == "staff"
    assert authenticate(users, "kim", "wrong passphrase!") is None
    short = runner.invoke(cli.app, ["user-hash", "kim"], input="short\nshort\n")
    assert short.exit_code == 1 and "12 characters" in short.output


def test_validate_prints_headers_that_look_like_markup_as_they_are(tmp_path) -> None:
    # issue #13 review: a header such as "Contract[/]" (named in the "misspelled?" hint) made rich
    # raise MarkupError instead of printing the problem
    from tests.helpers.classic import classic_bytes

    lines = classic_bytes(rows=3).decode().split("\n")
    lines[0] = lines[0].replace("Contract", "Contract[/]")
    path = tmp_path / "markup.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(cli.app, ["validate", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception  # not MarkupError
    assert "'Contract[/]'" in result.output and "misspelled" in result.output


def test_validate_says_which_category_values_it_normalised(tmp_path) -> None:
    # issue #13 review: yes → Yes was only logged, so validate / ingest / warehouse build changed
    # values without telling the user; the UI's note has a CLI counterpart
    from tests.helpers.classic import classic_bytes

    path = tmp_path / "lower.csv"
    path.write_bytes(classic_bytes(rows=20).replace(b",Yes,", b",yes,"))
    result = runner.invoke(cli.app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "normalised" in result.output and "'yes'" in result.output
