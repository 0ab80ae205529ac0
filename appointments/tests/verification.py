"""Helpers of the tests of contact verification: the code a hold was sent (read from its
message in the outbox, as the applicant reads it on their phone) and confirming with it."""

from appointments.models import Appointment, OutboxMessage


def code_message(appointment: Appointment | str, channel: str = "sms") -> OutboxMessage:
    reference = appointment if isinstance(appointment, str) else appointment.reference
    return OutboxMessage.objects.get(
        appointment__reference=reference, kind="booking_code", channel=channel
    )


def sent_code(appointment: Appointment | str) -> str:
    """The code sent for this hold (before the message is sent and its payload wiped)."""
    return code_message(appointment).payload["code"]


def other_code(code: str) -> str:
    """A well-formed code that is not this one."""
    return f"{(int(code) + 1) % 10**6:06d}"
