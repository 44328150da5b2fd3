"""The one logging setup (churn_core.logs): JSON lines with their fields, redaction, rotation, and
``churn-studio`` writing them from a real process."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from api.keys import generate_api_key, hash_api_key
from churn_core.config import PROJECT_ROOT, RAW_CUSTOMERS_CSV, Settings
from churn_core.logs import log_context, redact, reset_logging, setup_logging
from churn_core.outreach.unsubscribe import mint

EMAIL = "kim.minsu@example.co.kr"
PHONES = ("010-2345-6789", "+82 10 2345 6789", "+821023456789", "01023456789")
TOKEN = mint("3668-QPYBK", "logs-test-signing-key-" + "k" * 20, campaign_id="c-2026-11")  # a real one
SMTP_PASSWORD = "smtp-password-never-in-logs-42"


@pytest.fixture
def logged(tmp_path):
    """Logging set up as a command does, into ``tmp_path/logs`` (small files), removed after the test."""
    settings = Settings(_env_file=None, log_dir=tmp_path / "logs", log_max_bytes=4_096, log_backup_count=2,
                        smtp_password=SMTP_PASSWORD)  # fmt: skip
    setup_logging("cli", settings)
    yield settings
    reset_logging()


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_record_with_personal_data_and_secrets_is_redacted_on_stderr_and_in_the_file(logged, capsys) -> None:
    key = generate_api_key()
    log = logging.getLogger("tests.logs")
    with log_context(run_id="run-0001", model_version="20261123-1a2b3c4d"):
        log.warning(
            "customer %s (%s, %s) called with key %s about /optout?token=%s; smtp %s",
            EMAIL, PHONES[0], PHONES[1], key, TOKEN, SMTP_PASSWORD,
            extra={"contact": {"email": EMAIL, "phone": PHONES[2]}, "api_key": key, "password": "hunter2-hunter2",
                   "x_api_key_digest": hash_api_key(key), "note": f"sms {PHONES[3]}", "link": f"bare {TOKEN}",
                   "rows": 12},
        )  # fmt: skip
        try:
            raise ValueError(f"cannot send to {EMAIL} / {PHONES[0]} with token={TOKEN}")
        except ValueError:
            log.exception("send failed")
    log.info("outside any run")
    secrets = (EMAIL, *PHONES, key, TOKEN, SMTP_PASSWORD, "hunter2", hash_api_key(key)[12:])
    stderr = capsys.readouterr().err
    in_file = (logged.log_dir / "cli.log").read_text(encoding="utf-8")
    for text in (stderr, in_file):
        assert not [s for s in secrets if s in text]
        lines = _lines(text)  # every line is one JSON object
        first, failed, outside = lines[-3:]
        assert list(first)[:7] == ["time", "level", "component", "logger", "message", "run_id", "model_version"]
        assert dt.datetime.fromisoformat(first["time"]).utcoffset() == dt.timedelta(0)
        assert first["level"] == "WARNING" and first["component"] == "cli" and first["logger"] == "tests.logs"
        assert first["run_id"] == "run-0001" and first["model_version"] == "20261123-1a2b3c4d"
        assert first["message"].startswith("customer [redacted] ([redacted], [redacted]) called with key [redacted]")
        assert "token=[redacted]" in first["message"]
        assert first["contact"] == {"email": "[redacted]", "phone": "[redacted]"} and first["rows"] == 12
        assert first["api_key"] == first["password"] == first["x_api_key_digest"] == "[redacted]"
        assert first["note"] == "sms [redacted]" and first["link"] == "bare [redacted]"
        assert failed["level"] == "ERROR" and failed["run_id"] == "run-0001"
        assert "ValueError: cannot send to [redacted] / [redacted] with token=[redacted]" in failed["exception"]
        assert outside["run_id"] is None and outside["model_version"] is None and "exception" not in outside


def test_what_makes_a_line_useful_is_not_redacted() -> None:
    kept = ("2026-11-23T18:25:08.123456+00:00", "run 3f2a9c1e7b4d", "model 20261123-1a2b3c4d", "7043 customers",
            "ROC-AUC 0.8805", "snapshot 2019-09-30", "customer 3668-QPYBK", "logger churn_core.data.loading",
            "sha256 0123456789abcdef0123456789abcdef", "token 1a2b3c4d5e6f7a8b", "127.0.0.1:54321")  # fmt: skip
    for text in kept:
        assert redact(text) == text
    once = redact(f"GET /optout?token={TOKEN}&x-api-key=cs_{'k' * 43} {EMAIL}")
    assert once == "GET /optout?token=[redacted]&x-api-key=[redacted] [redacted]" and redact(once) == once


def test_files_rotate_at_the_size_limit_and_stay_private(logged) -> None:
    log = logging.getLogger("tests.logs")
    for i in range(200):  # about 200 bytes a line: several times the 4 KiB limit
        log.info("line %d of the rotation test", i)
    folder = logged.log_dir
    assert sorted(p.name for p in folder.iterdir()) == ["cli.log", "cli.log.1", "cli.log.2"]  # 2 backups kept
    for path in folder.iterdir():
        assert path.stat().st_size <= 4_096 and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert all(line["component"] == "cli" for line in _lines(path.read_text(encoding="utf-8")))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert "line 199 of" in (folder / "cli.log").read_text(encoding="utf-8")


def test_setting_up_twice_adds_no_handler_and_another_component_gets_its_own_file(logged, capsys) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    setup_logging("cli", logged)
    assert root.handlers == before
    setup_logging("api", logged)
    assert len(root.handlers) == len(before)
    logging.getLogger("tests.logs").warning("served")
    line = _lines((logged.log_dir / "api.log").read_text(encoding="utf-8"))[-1]
    assert line["component"] == "api" and line["message"] == "served"
    assert "served" not in (logged.log_dir / "cli.log").read_text(encoding="utf-8")


def test_a_command_writes_json_lines_with_its_run_id_and_keeps_its_human_output(tmp_path) -> None:
    raw = pd.read_csv(RAW_CUSTOMERS_CSV, dtype=str, keep_default_na=False).head(5)
    raw.loc[0, "gender"], raw.loc[1, "gender"] = EMAIL, PHONES[0]  # a bad file whose error names its values
    bad = tmp_path / "bad.csv"
    raw.to_csv(bad, index=False)
    env = {**os.environ, "CHURN_LOG_DIR": str(tmp_path / "logs"), "CHURN_WAREHOUSE_PATH": str(tmp_path / "w.duckdb")}
    cmd = [str(Path(sys.executable).with_name("churn-studio")), "validate", str(bad)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300, check=False)
    assert done.returncode == 1
    assert "column 'gender'" in done.stdout and not done.stdout.lstrip().startswith("{")  # people read stdout
    in_file = (tmp_path / "logs" / "cli.log").read_text(encoding="utf-8")
    for text in (in_file, done.stderr):
        lines = _lines(text)
        assert lines and all(line["component"] == "cli" for line in lines)
        assert EMAIL not in text and PHONES[0] not in text
    lines = _lines(in_file)
    assert lines[0]["message"] == "command started" and lines[0]["command"] == "validate"
    failed = next(line for line in lines if line["level"] == "ERROR")
    assert failed["run_id"] == lines[0]["run_id"] and len(failed["run_id"]) == 12 and "model_version" in failed
    assert "DataValidationError" in failed["exception"] and "[redacted]" in failed["exception"]
