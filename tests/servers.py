"""Starting and stopping local server processes for tests, bounded in time, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(cmd: list[str], health_url: str, name: str, timeout_s: float, log_path: Path | None = None,
            **popen) -> Iterator[subprocess.Popen]:  # fmt: skip
    """Run ``cmd``; wait until ``health_url`` answers 200 (at most ``timeout_s``); stop it after.

    Raises
    ------
    RuntimeError
        If the process exits early or does not answer in time (the log path is named).
    """
    log = open(log_path or "/dev/null", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **popen)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} (log: {log_path})")
            try:
                with urllib.request.urlopen(health_url, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer within {timeout_s} s (log: {log_path})")
            time.sleep(0.25)  # polling a subprocess, not a page: no WebDriverWait here
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
