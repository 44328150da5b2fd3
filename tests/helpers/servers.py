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


class LocalServer:
    """A ``ThreadingHTTPServer`` on a free 127.0.0.1 port in a background thread (context manager)."""

    def __init__(self, handler_class):
        import threading
        from http.server import ThreadingHTTPServer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class JsonStub(LocalServer):
    """A local HTTP API on 127.0.0.1 answering JSON from ``respond(request) -> (status, payload)``.

    ``request`` is a dict: ``method``, ``path``, ``query`` (first value per key), ``headers``,
    ``form`` (a url-encoded body, first value per key). Every request is kept in
    ``requests``. Use as a context manager; ``url`` is the root.
    """

    def __init__(self, respond):
        import json
        from http.server import BaseHTTPRequestHandler
        from urllib.parse import parse_qs, urlparse

        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                request = {
                    "method": self.command, "path": url.path, "headers": dict(self.headers),
                    "query": {k: v[0] for k, v in parse_qs(url.query).items()},
                    "form": {k: v[0] for k, v in parse_qs(body).items()},
                }  # fmt: skip
                stub.requests.append(request)
                status, payload = respond(request)
                data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        super().__init__(Handler)
