"""The kinds of outbox messages, each registered by the app that owns it, and the rendering
of a message through its kind.

Core sends messages without knowing what they say: each app adds its kinds from its
AppConfig.ready() (`register`), as it adds its periodic tasks to core.schedules. A kind
brings its SMS text, the templates and context of its email, the files its email carries
(the calendar file and convocation of a booking), the payload keys that are secrets, and
whether it is sent first (a code). Writing a message of a kind nobody registered is refused
(appointments.notifications.enqueue); a message of such a kind found at sending time is
abandoned with the reason recorded (delivery.py), not retried.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.utils import translation

from core.models import FIRST_KIND_SUFFIX, OutboxMessage

# A file an email carries: its name, its content and its MIME type.
Attachment = tuple[str, bytes, str]


@dataclass(frozen=True)
class Kind:
    name: str
    # The SMS text of a message, called in the message's language.
    sms: Callable[[OutboxMessage], str]
    # The context of the email's templates, called in the message's language.
    context: Callable[[OutboxMessage], dict]
    # The templates' path without its end: `<template>_subject.txt`, `.txt`, `.html`.
    template: str
    # The files the email carries, from the message and the templates' context.
    attachments: Callable[[OutboxMessage, dict], Iterable[Attachment]] | None = None
    # Sent before any other message. Must agree with the name (FIRST_KIND_SUFFIX): the
    # priority is computed by PostgreSQL from the name (OutboxMessage.priority).
    first: bool = False
    # Payload keys dropped once the message is sent or abandoned (a manage link's token, a
    # code): the database keeps no secret longer than it may still be sent.
    secrets: tuple[str, ...] = ()


class UnknownKind(LookupError):
    """No app registered this kind of message."""


_KINDS: dict[str, Kind] = {}


def register(*kinds: Kind) -> None:
    """Add an app's kinds of message (once each: ready() may run twice in tests). A kind
    whose `first` disagrees with its name is refused, since the priority the senders follow
    is computed from the name."""
    for kind in kinds:
        if kind.first != kind.name.endswith(FIRST_KIND_SUFFIX):
            raise ValueError(
                f"outbox kind {kind.name!r}: a kind is sent first if and only if its name ends "
                f"with {FIRST_KIND_SUFFIX!r} (the outbox's priority is computed from the name)"
            )
        known = _KINDS.get(kind.name)
        if known is not None and known != kind:
            raise ValueError(f"outbox kind {kind.name!r} is registered twice")
        _KINDS[kind.name] = kind


def get(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownKind(f"unknown outbox message kind {name!r}: no app registered it") from None


def registered(name: str) -> bool:
    return name in _KINDS


def names() -> list[str]:
    """Every registered kind, in the order the apps registered them."""
    return list(_KINDS)


def render_email(message: OutboxMessage) -> mail.EmailMultiAlternatives:
    """The email of an outbox message, in its language, with its attachments."""
    kind = get(message.kind)
    with translation.override(message.language):
        context = kind.context(message)
        subject = " ".join(render_to_string(f"{kind.template}_subject.txt", context).split())
        context["subject"] = subject
        email = mail.EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"{kind.template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"Content-Language": message.language, "Auto-Submitted": "auto-generated"},
        )
        email.attach_alternative(render_to_string(f"{kind.template}.html", context), "text/html")
        if kind.attachments is not None:
            for name, content, mimetype in kind.attachments(message, context):
                email.attach(name, content, mimetype)
    return email


def sms_text(message: OutboxMessage) -> str:
    """The SMS of an outbox message, in its language."""
    kind = get(message.kind)
    with translation.override(message.language):
        return kind.sms(message)


def without_secrets(message: OutboxMessage) -> dict:
    """The message's payload without its kind's secrets (without anything, for a kind that
    nobody registered: its secrets are not known)."""
    if not registered(message.kind):
        return {}
    secrets = get(message.kind).secrets
    return {key: value for key, value in message.payload.items() if key not in secrets}
