"""A real SMTP server for the e-mail tests: aiosmtpd on a free 127.0.0.1 port requiring STARTTLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import trustme
from aiosmtpd.controller import Controller

from tests.helpers.servers import free_port


class Inbox:
    """An aiosmtpd handler that keeps every message: (sender, recipients, raw bytes)."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@contextmanager
def running_smtp() -> Iterator[tuple[Controller, Inbox, ssl.SSLContext]]:
    """(controller, inbox, client TLS context) of a started server with a throw-away trustme CA; stopped after."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_ctx,
                            require_starttls=True)  # fmt: skip
    controller.start()
    try:
        yield controller, inbox, client_ctx
    finally:
        controller.stop()
