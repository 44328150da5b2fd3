"""A SOLAPI API stub on 127.0.0.1 for the Korean-channel tests: the real ``solapi`` SDK talks HTTP to it.

It answers ``POST /messages/v4/send-many/detail`` as SOLAPI does (the response validates as the
SDK's ``SendMessageResponse``), checks the SDK's ``HMAC-SHA256`` Authorization header against
the key and secret, and answers per recipient from a script:

* ``200`` (default): accepted, a message id ``M4V…``;
* ``400``: ``ValidationError``; ``401`` is answered to a bad signature whatever the script;
* ``429``: ``TooManyRequests``; ``500``: a server error (the SDK raises ``UnknownError``);
* ``"refused"``: HTTP 200 with the message in ``failedMessageList`` (status code ``1062``,
  an unregistered sender on SOLAPI's side): the SDK raises ``MessageNotReceivedError``;
* ``"drop"``: the connection is closed without an answer (the request arrived; the outcome is
  unknown to the client).

Every request (method, path, headers, JSON body, whether its signature verified) is kept in
``requests``. One handler thread per request; nothing loops.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from http.server import BaseHTTPRequestHandler

from tests.helpers.servers import LocalServer

API_KEY, API_SECRET = "NCSTESTKEY000000", "test-secret-not-a-real-one-0000000000000"
SEND_PATH = "/messages/v4/send-many/detail"
_AUTH = re.compile(r"HMAC-SHA256 ApiKey=(?P<key>[^,]+), Date=(?P<date>[^,]+), salt=(?P<salt>[^,]+), "
                   r"signature=(?P<signature>[0-9a-f]+)$")  # fmt: skip


def signature_ok(header: str, key: str = API_KEY, secret: str = API_SECRET) -> bool:
    """True if ``header`` is SOLAPI's HMAC-SHA256 Authorization for ``key``: HMAC(secret, Date + salt)."""
    match = _AUTH.match(header or "")
    if not match or match["key"] != key:
        return False
    expected = hmac.new(secret.encode(), (match["date"] + match["salt"]).encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match["signature"])


def _group(n_ok: int, n_failed: int) -> dict:
    count = {"total": n_ok + n_failed, "sentTotal": 0, "sentSuccess": 0, "sentPending": n_ok,
             "sentReplacement": 0, "refund": 0, "registeredFailed": n_failed, "registeredSuccess": n_ok}  # fmt: skip
    cash = {"requested": 0, "replacement": 0, "refund": 0, "sum": 0}
    return {
        "count": count, "countForCharge": {}, "balance": cash, "point": cash, "app": {"profit": {}, "appId": None},
        "log": [], "status": "SENDING", "allowDuplicates": False, "isRefunded": False, "accountId": "ACC",
        "masterAccountId": None, "apiVersion": "4", "groupId": "G4V20261123STUB", "price": {},
        "dateCreated": "2026-11-23T01:00:00.000Z", "dateUpdated": "2026-11-23T01:00:00.000Z",
    }  # fmt: skip


class SolapiStub(LocalServer):
    """The stub server (context manager); ``url`` is the root to give as ``base_url``.

    Parameters
    ----------
    script : dict of str to list
        Recipient number as SOLAPI receives it (``01023456781``) → answers in turn (see the module).
    """

    def __init__(self, script: dict[str, list] | None = None):
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode() or "{}")
                signed = signature_ok(self.headers.get("Authorization", ""))
                stub.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                      "json": body, "signed": signed})  # fmt: skip
                status, payload = stub.answer(self.path, body, signed)
                if status == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        super().__init__(Handler)

    def answer(self, path: str, body: dict, signed: bool) -> tuple:
        if not signed:
            return 401, {"errorCode": "SignatureDoesNotMatch", "errorMessage": "bad signature"}
        if path != SEND_PATH:
            return 404, {"errorCode": "NotFound", "errorMessage": path}
        message = body["messages"][0]
        answers = self.script.get(message["to"], [])
        answer = answers.pop(0) if answers else 200
        if answer == 200:
            n = sum(r["signed"] and r["path"] == SEND_PATH for r in self.requests)
            item = {"messageId": f"M4V{n:020d}", "statusCode": "2000", "statusMessage": "정상 접수"}
            return 200, {"groupInfo": _group(1, 0), "messageList": [item], "failedMessageList": []}
        if answer == "refused":
            failed = {"to": message["to"], "from": message.get("from"), "type": message.get("type", "SMS"),
                      "statusMessage": "발신번호 미등록", "country": "82", "messageId": "M4VFAILED",
                      "statusCode": "1062", "accountId": "ACC"}  # fmt: skip
            return 200, {"groupInfo": _group(0, 1), "failedMessageList": [failed]}
        if answer == "drop":
            return "drop", None
        code = {400: "ValidationError", 429: "TooManyRequests"}.get(answer)
        if code:
            return answer, {"errorCode": code, "errorMessage": f"stub error {answer}"}
        return answer, {"message": "internal error"}  # 5xx: the SDK reads only the text

    def sent(self, to: str | None = None) -> list[dict]:
        """The messages of signed send requests (optionally only those to ``to``)."""
        out = [r["json"]["messages"][0] for r in self.requests if r["signed"] and r["path"] == SEND_PATH]
        return [m for m in out if to is None or m["to"] == to]
