"""Helpers of the tests of contact verification: the code a hold was sent (read from its
message in the outbox, as the applicant reads it on their phone) and confirming with it."""

from appointments.models import Appointment
from core.models import OutboxMessage


def code_message(appointment: Appointment | str, channel: str = "sms") -> OutboxMessage:
    if isinstance(appointment, str):
        appointment = Appointment.objects.get(reference=appointment)
    return OutboxMessage.objects.get(
        appointment_id=appointment.pk, kind="booking_code", channel=channel
    )


def sent_code(appointment: Appointment | str) -> str:
    """The code sent for this hold (before the message is sent and its payload wiped)."""
    return code_message(appointment).payload["code"]


def other_code(code: str) -> str:
    """A well-formed code that is not this one."""
    return f"{(int(code) + 1) % 10**6:06d}"
