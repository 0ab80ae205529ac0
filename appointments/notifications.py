"""Notifications to applicants, through the outbox.

`enqueue` writes the messages in the caller's transaction, and nothing else: the Celery
task `appointments.outbox_sweep`, run by beat every few seconds, sends every pending
message whose time has come (several workers may sweep at once: rows are claimed with SKIP
LOCKED). So a booking never waits for the broker or the mail server, and nothing is lost
while either is down; in a rush the sweep sends messages in batches instead of one task
per booking.
"""

from .models import Appointment, OutboxMessage

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
    return messages
