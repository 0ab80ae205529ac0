"""What the appointments app's outbox messages say: the booking kinds, registered with the
outbox (core.outbox.kinds) by AppointmentsConfig.ready(). Their email (the calendar file and
the convocation of a booking) and their SMS, in the message's language, from the appointment
and the payload the message carries. The sending is core's (core/outbox/delivery.py)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import OutboxMessage
from core.outbox.kinds import Attachment, Kind

from . import documents
from .message_context import appointment_context, appointment_of, manage_url
from .models import Appointment

# Kinds whose email carries the calendar file and the convocation.
WITH_DOCUMENTS = ("booking_confirmed", "booking_rescheduled", "booking_rebooked")
# What a booking message's payload may carry that must not outlive its sending.
SECRETS = ("manage_token", "code")

SMS_TEXTS = {
    "booking_code": gettext_lazy(
        "Passeport Premium : code %(code)s pour confirmer le rendez-vous %(reference)s du "
        "%(when)s, %(office)s. Valable 15 minutes. Ne le donnez à personne."
    ),
    "booking_confirmed": gettext_lazy(
        "Passeport Premium : rendez-vous %(reference)s confirmé le %(when)s, %(office)s."
    ),
    "booking_rescheduled": gettext_lazy(
        "Passeport Premium : rendez-vous %(reference)s déplacé au %(when)s, %(office)s."
    ),
    "booking_cancelled": gettext_lazy(
        "Passeport Premium : rendez-vous %(reference)s du %(when)s annulé."
    ),
    "booking_rebooked": gettext_lazy(
        "Passeport Premium : le service a rouvert ; rendez-vous %(reference)s reprogrammé au "
        "%(when)s, %(office)s."
    ),
    "booking_displaced": gettext_lazy(
        "Passeport Premium : le rendez-vous %(reference)s du %(when)s ne peut pas être "
        "maintenu (fermeture du bureau). Choisissez un nouveau créneau : %(url)s"
    ),
    "booking_guessing": gettext_lazy(
        "Passeport Premium : plusieurs codes erronés ont été saisis pour remplacer votre "
        "rendez-vous %(reference)s. Il reste valable. Ne donnez jamais votre code."
    ),
    "booking_reminder": gettext_lazy(
        "Passeport Premium : rappel, votre rendez-vous %(reference)s est demain, le %(when)s, "
        "%(office)s."
    ),
}


def _code_context(message: OutboxMessage, appointment: Appointment) -> dict:
    """The code of a pending hold (contact verification) and, when the hold would replace
    the identity's booked appointment, that one: its holder is the person written to."""
    context = {
        "code": message.payload.get("code", ""),
        "hold_until": documents.local_datetime_label(
            appointment.hold_expires_at, appointment.office.timezone
        )
        if appointment.hold_expires_at
        else "",
    }
    replaced = appointment.replaces
    if replaced is not None:
        context.update(
            name=documents.applicant_name(replaced),
            replaces_reference=replaced.reference,
            replaces_when=documents.local_datetime_label(
                replaced.slot.starts_at, replaced.office.timezone
            ),
        )
    return context


def email_context(message: OutboxMessage) -> dict:
    appointment = appointment_of(message)
    context = appointment_context(message, appointment)
    if message.kind == "booking_code":
        context.update(_code_context(message, appointment))
    context["appointment"] = appointment  # for the attachments, below
    return context


def booking_documents(message: OutboxMessage, context: dict) -> list[Attachment]:
    """The calendar file and the convocation (with the manage link when the message carries
    its token)."""
    appointment = context["appointment"]
    reference = appointment.reference
    pdf = documents.appointment_pdf(appointment, manage_url=context["manage_url"] or None)
    return [
        (f"{reference}.ics", documents.appointment_ics(appointment), "text/calendar"),
        (f"convocation-{reference}.pdf", pdf, "application/pdf"),
    ]


def sms_text(message: OutboxMessage) -> str:
    """The SMS of a booking message: short, with the manage link when the message carries the
    token."""
    appointment = appointment_of(message)
    office, slot = appointment.office, appointment.slot
    manage = manage_url(message, appointment)
    text = SMS_TEXTS[message.kind] % {
        "reference": appointment.reference,
        "when": documents.local_datetime_label(slot.starts_at, office.timezone),
        "office": office.display_name,
        "url": manage or documents.portal_url(message.language),
        "code": message.payload.get("code", ""),
    }
    if manage and message.kind != "booking_displaced":
        text += " " + _("Déplacer ou annuler : %(url)s") % {"url": manage}
    if message.kind == "booking_code" and appointment.replaces_id:
        text += " " + _("Il remplacera votre rendez-vous %(reference)s.") % {
            "reference": appointment.replaces.reference
        }
    return text


KINDS = [
    Kind(
        name=name,
        sms=sms_text,
        context=email_context,
        template=f"appointments/email/{name}",
        attachments=booking_documents if name in WITH_DOCUMENTS else None,
        # A hold's code: worth something only for the 15 minutes of its hold.
        first=name == "booking_code",
        secrets=SECRETS,
    )
    for name in SMS_TEXTS
]
