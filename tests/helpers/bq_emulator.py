"""Start and stop the local BigQuery emulator (``bqemulator``) on 127.0.0.1.

The emulator lives in its own virtual environment (``.venv-bqemu``, pinned by
``requirements-bqemu.lock``, made by ``make bq-emulator``) because it pins its own DuckDB.
It loads DuckDB's spatial extension at start; the Makefile copies the file from the PyPI
package ``duckdb-extension-spatial`` into ``.venv-bqemu/home/.duckdb/extensions``, and the
emulator runs with ``HOME`` pointed there, so nothing is downloaded.

Usage::

    python tests/bq_emulator.py run -- pytest      # start, run the command, stop
    python tests/bq_emulator.py serve              # start in the foreground (Ctrl+C stops)

``run`` exports ``CHURN_TEST_BQ_ENDPOINT`` to the command; the test fixtures use it, or
start an emulator of their own through :func:`running_emulator` when it is not set.
``tests/bq_emulator.py`` is the command-line launcher of :func:`main` (the Makefile runs it).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tests.helpers.servers import free_port, serving

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-bqemu"
BINARY = VENV / "bin" / "bqemulator"
START_TIMEOUT_S = 60.0
PROJECT = "churn-test"


@contextlib.contextmanager
def running_emulator(log_path: Path | None = None) -> Iterator[str]:
    """Start the emulator on free 127.0.0.1 ports; yield its REST endpoint; stop it after.

    Raises
    ------
    FileNotFoundError
        If ``.venv-bqemu`` is missing (run ``make bq-emulator``).
    RuntimeError
        If it exits early or does not answer within :data:`START_TIMEOUT_S` seconds.
    """
    if not BINARY.exists():
        raise FileNotFoundError(f"{BINARY} is missing: run `make bq-emulator` first")
    rest, grpc = free_port(), free_port()
    cmd = [
        str(BINARY), "start", "--rest-host", "127.0.0.1", "--rest-port", str(rest),
        "--grpc-host", "127.0.0.1", "--grpc-port", str(grpc), "--project", PROJECT, "--log-level", "warning",
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(VENV / "home")}
    endpoint = f"http://127.0.0.1:{rest}"
    health = f"{endpoint}/bigquery/v2/projects/{PROJECT}/datasets"
    with serving(cmd, health, "bqemulator", START_TIMEOUT_S, log_path, env=env):
        yield endpoint


def main(argv: list[str]) -> int:
    """Run ``run -- <command>`` or ``serve`` (see the module docstring); print the usage otherwise."""
    if argv[:1] == ["run"]:
        command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        log = ROOT / "test-artifacts" / "bqemulator.log"
        log.parent.mkdir(exist_ok=True)
        with running_emulator(log) as endpoint:
            print(f"bqemulator on {endpoint}", flush=True)
            return subprocess.call(command, env={**os.environ, "CHURN_TEST_BQ_ENDPOINT": endpoint})
    if argv[:1] == ["serve"]:
        with running_emulator() as endpoint:
            print(f"bqemulator on {endpoint} (project {PROJECT}); Ctrl+C stops it", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
        return 0
    print(__doc__)
    return 2
