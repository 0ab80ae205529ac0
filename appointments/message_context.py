"""What every outbox message about an appointment shows, whichever app owns its kind (the
booking kinds here in appointments.messages, the files' and tracking kinds in
production.messages): the appointment the message names and the context its email's
templates share (appointments/email/base.*: the applicant's name, the office, the links)."""

from core.models import OutboxMessage

from . import documents
from .models import Appointment


def appointment_of(message: OutboxMessage) -> Appointment:
    """The appointment the message is about, with what its texts show (office, slot, and the
    booking a code's hold would replace)."""
    if message.appointment_id is None:
        raise ValueError(f"outbox message {message.pk} has no appointment")
    return Appointment.objects.select_related(
        "office", "slot", "replaces__office", "replaces__slot"
    ).get(pk=message.appointment_id)


def manage_url(message: OutboxMessage, appointment: Appointment) -> str:
    """The manage link, when the message carries its token ("" otherwise)."""
    token = message.payload.get("manage_token")
    return documents.manage_url(appointment, token) if token else ""


def appointment_context(message: OutboxMessage, appointment: Appointment) -> dict:
    """The context every email about an appointment gives its templates, in the active
    language (the message's: core.outbox.kinds renders under it)."""
    office, slot = appointment.office, appointment.slot
    return {
        "language": message.language,
        "reference": appointment.reference,
        "name": documents.applicant_name(appointment),
        "when": documents.local_datetime_label(slot.starts_at, office.timezone),
        "office_name": office.display_name,
        "office_address_lines": documents.address_lines(appointment),
        "what_to_bring": [str(item) for item in documents.WHAT_TO_BRING],
        "manage_url": manage_url(message, appointment),
        "portal_url": documents.portal_url(message.language),
        "track_appointment_url": (
            f"{documents.tracking_url(message.language)}?reference={appointment.reference}"
        ),
    }
