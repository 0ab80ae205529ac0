"""Delivery to the console, for development and demonstrations: one line per message.

A whole email (its HTML, its calendar file and PDF convocation in base64) drowns the worker's
output: a reopening demo printed 29 MB in 11 minutes, and the code an applicant waits for
was lost in it. So the console backends print a summary instead: the channel, the recipient
masked (`a***@example.org`, `+223 ** ** 12 34`), the kind of message or its subject, and the
code where the message carries one (`booking_code`), which is what a developer trying the
portal needs. Those who want whole messages use `EMAIL_URL=filemail:///path` or
`SMS_BACKEND=core.sms.FileBackend`.

The kind and the code come from the outbox message being sent (`describing`, set by
core/outbox/delivery.py around each send): the backends' interfaces stay Django's and
core.sms's. With DEBUG off the portal still refuses to start with a console backend unless
ALLOW_CONSOLE_DELIVERY says so (settings/notifications.py).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import phonenumbers
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

# The outbox message being sent by this thread (core.models.OutboxMessage), if any.
_SENDING: ContextVar[object | None] = ContextVar("console_sending", default=None)
# Digits of a phone number left visible: enough to tell two test numbers apart.
VISIBLE_DIGITS = 4
SEPARATOR = " · "
# An SMS sent outside the outbox (no kind known) is shown by its beginning.
TEXT_CHARS = 60


@contextmanager
def describing(message) -> Iterator[None]:
    """While an outbox message is sent: the console backends name its kind and code."""
    token = _SENDING.set(message)
    try:
        yield
    finally:
        _SENDING.reset(token)


def mask_email(address: str) -> str:
    """`awa.traore@example.org` -> `a***@example.org`."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(number: str) -> str:
    """`+22370561234` -> `+223 ** ** 12 34`: the country code and the last four digits."""
    try:
        shown = phonenumbers.format_number(
            phonenumbers.parse(number, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        shown = number
    prefix, space, rest = shown.partition(" ")
    if not space:
        prefix, rest = "", shown
    hidden = max(sum(c.isdigit() for c in rest) - VISIBLE_DIGITS, 0)
    masked = []
    for character in rest:
        if character.isdigit() and hidden:
            character, hidden = "*", hidden - 1
        masked.append(character)
    return f"{prefix}{space}{''.join(masked)}"


def _what() -> list[str]:
    """The kind of the outbox message being sent and its code, as far as known."""
    message = _SENDING.get()
    if message is None:
        return []
    parts = [message.kind]
    code = (message.payload or {}).get("code")
    if code:
        parts.append(f"code {code}")
    return parts


def summary(channel: str, recipients: list[str], *parts: str) -> str:
    """One line: `email to a***@example.org · booking_code · code 123456 · ...`."""
    mask = mask_phone if channel == "SMS" else mask_email
    to = ", ".join(mask(recipient) for recipient in recipients) or "nobody"
    return SEPARATOR.join([f"{channel} to {to}", *_what(), *(p for p in parts if p)])


class EmailBackend(DjangoConsoleBackend):
    """Django's console backend, one line per email: recipients masked, kind, code, subject,
    attachments by name and size, instead of the whole MIME message. EMAIL_URL=consolemail://
    names it (settings/notifications.py)."""

    def write_message(self, message) -> None:
        subject = " ".join(str(message.subject).split())
        line = summary("email", list(message.recipients()), f"“{subject}”", _attached(message))
        self.stream.write(line + "\n")


def _attached(message) -> str:
    """`2 attachments: rendez-vous.ics, convocation.pdf (38 KB)`, or nothing."""
    files = [a for a in message.attachments if isinstance(a, tuple)]  # not MIME parts
    if not files:
        return ""
    size = sum(len(content or b"") for _name, content, _mimetype in files)
    names = ", ".join(str(name) for name, _content, _mimetype in files)
    return f"{len(files)} attachment(s): {names} ({max(size // 1024, 1)} KB)"


def sms_line(to: str, text: str) -> str:
    """One SMS in one line, the number masked: the kind and code of the outbox message being
    sent, or, sent from elsewhere, the text's beginning."""
    if _SENDING.get() is not None:
        return summary("SMS", [to])
    text = " ".join(text.split())
    return summary("SMS", [to], text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…")
