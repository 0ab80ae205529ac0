"""A real SMTP server on localhost (aiosmtpd) for the tests of the emails, and the settings
that send Django's mail to it; the `inbox` fixtures of appointments/tests/conftest.py and
production/tests/conftest.py start it."""

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message; answers 451 to DATA while `refusing`, and
    to the next `refuse_next` messages."""

    def __init__(self) -> None:
        self.envelopes = []
        self.refusing = False
        self.refuse_next = 0
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refusing or self.refuse_next > 0:
            self.refuse_next = max(self.refuse_next - 1, 0)
            self.refused += 1
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(envelope.content, policy=email.policy.default)
            for envelope in self.envelopes
        ]

    def subjects(self) -> list[str]:
        return [message["Subject"] for message in self.messages()]


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10


@contextmanager
def smtp_server(settings, handler: Inbox | None = None) -> Iterator[Inbox]:
    """An SMTP server listening on a free port of localhost, Django's mail sent to it (each
    message given to `handler`, a new Inbox by default)."""
    handler = handler or Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    use_smtp(settings, port)
    try:
        yield handler
    finally:
        controller.stop()
