"""The reminder the day before an appointment (the periodic task appointments.reminders)."""

from datetime import datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from core import sql

from ..models import Appointment

REMINDERS = sql.load(
    Path(__file__).with_name("reminders.sql"),
    AppointmentStatus=Appointment.Status,
)


@transaction.atomic
def booking_reminders_enqueue(*, now: datetime | None = None) -> int:
    """Write the reminders of every booked appointment whose slot is on the next local day
    of its office, in one statement (reminders.sql); returns how many messages were written
    (none for an appointment reminded already). The outbox sweep sends them."""
    with connection.cursor() as cursor:
        cursor.execute(REMINDERS.sql, {"now": now or timezone.now()})
        (written,) = cursor.fetchone()
        return written
