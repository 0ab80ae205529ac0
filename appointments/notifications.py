"""Notifications to applicants, through the outbox.

`enqueue` writes the messages in the caller's transaction, and nothing else: the Celery
task `appointments.outbox_sweep`, run by beat every few seconds, sends every pending
message whose time has come (several workers may sweep at once: rows are claimed with SKIP
LOCKED). So a booking never waits for the broker or the mail server, and nothing is lost
while either is down; in a rush the sweep sends messages in batches instead of one task
per booking.
"""

import json

from django.db import connection
from django.utils import timezone

from .models import Appointment, OutboxMessage

KINDS = (
    "booking_confirmed",
    "booking_rescheduled",
    "booking_cancelled",
    "booking_displaced",
    "booking_rebooked",
)


# One statement for both messages of an event, written by hand: this runs inside every
# booking of a reopening rush, and the ORM's bulk_create costs five times its CPU here.
_INSERT = """
    INSERT INTO appointments_outboxmessage
        (channel, kind, appointment_id, recipient, language, payload, status, attempts,
         next_attempt_at, last_error, created_at)
    VALUES (%s, %s, %s, %s, %s, %s, 'pending', 0, %s, '', %s),
           (%s, %s, %s, %s, %s, %s, 'pending', 0, %s, '', %s)
"""


def enqueue(*, appointment: Appointment, kind: str, payload: dict | None = None) -> None:
    """Write the email and the SMS of this event, in the caller's transaction; `payload`
    (e.g. {"manage_token": ...}) is kept only until each message is sent."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    data = json.dumps(payload or {})
    now = timezone.now()  # the application's clock, as the ORM's defaults would use
    rows = [
        (channel, kind, appointment.pk, recipient, appointment.language, data, now, now)
        for channel, recipient in (
            (OutboxMessage.Channel.EMAIL, appointment.email),
            (OutboxMessage.Channel.SMS, appointment.phone),
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [value for row in rows for value in row])
