"""Notifications to applicants, through the outbox.

`enqueue` writes the messages in the caller's transaction; once it commits, a Celery task is
asked to send them. If Redis is down at that moment nothing is lost: the periodic sweep
sends every pending message whose time has come.
"""

import logging

from django.db import transaction

from .models import Appointment, OutboxMessage

logger = logging.getLogger(__name__)

KINDS = ("booking_confirmed", "booking_rescheduled", "booking_cancelled", "booking_displaced")


def enqueue(
    *, appointment: Appointment, kind: str, payload: dict | None = None
) -> list[OutboxMessage]:
    """Write the email and the SMS of this event; `payload` (e.g. {"manage_token": ...}) is
    kept only until each message is sent."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    messages = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                channel=OutboxMessage.Channel.EMAIL,
                kind=kind,
                appointment=appointment,
                recipient=appointment.email,
                language=appointment.language,
                payload=payload or {},
            ),
            OutboxMessage(
                channel=OutboxMessage.Channel.SMS,
                kind=kind,
                appointment=appointment,
                recipient=appointment.phone,
                language=appointment.language,
                payload=payload or {},
            ),
        ]
    )
    ids = [message.pk for message in messages]
    transaction.on_commit(lambda: _send_soon(ids))
    return messages


def _send_soon(ids: list[int]) -> None:
    from .tasks import outbox_send

    for index, message_id in enumerate(ids):
        try:
            outbox_send.delay(message_id)
        except Exception:  # broker down: the periodic sweep will send them
            logger.warning(
                "outbox messages %s left for the sweep (broker unreachable)", ids[index:]
            )
            break
