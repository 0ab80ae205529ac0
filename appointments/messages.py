"""What each outbox message says: its email (subject, text and HTML bodies, the calendar file
and convocation of a booking) and its SMS, in the message's language, from the appointment
and the payload the message carries. The sending is delivery.py's."""

from datetime import datetime

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import documents
from .models import Appointment, OutboxMessage

# Kinds whose email carries the calendar file and the convocation.
WITH_DOCUMENTS = ("booking_confirmed", "booking_rescheduled", "booking_rebooked")

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
    "track_link": gettext_lazy(
        "Passeport Premium : suivez votre dossier %(tracked)s ici, sans date de naissance "
        "(lien valable %(hours)s h, ne le transmettez pas) : %(track_url)s"
    ),
    "booking_guessing": gettext_lazy(
        "Passeport Premium : plusieurs codes erronés ont été saisis pour remplacer votre "
        "rendez-vous %(reference)s. Il reste valable. Ne donnez jamais votre code."
    ),
    "booking_reminder": gettext_lazy(
        "Passeport Premium : rappel, votre rendez-vous %(reference)s est demain, le %(when)s, "
        "%(office)s."
    ),
    "file_on_hold": gettext_lazy(
        "Passeport Premium : votre dossier %(file)s est mis en attente. Nous vous préviendrons "
        "dès la reprise de sa production."
    ),
    "file_released": gettext_lazy(
        "Passeport Premium : votre dossier %(file)s n’est plus en attente ; sa production reprend."
    ),
    "file_in_transit": gettext_lazy(
        "Passeport Premium : votre passeport (dossier %(file)s) est produit et en route vers "
        "%(office)s."
    ),
    "file_ready": gettext_lazy(
        "Passeport Premium : votre passeport (dossier %(file)s) est disponible. Retrait : "
        "%(office)s."
    ),
    "file_rejected": gettext_lazy(
        "Passeport Premium : votre dossier %(file)s est rejeté. Motif : %(reason)s"
    ),
}
# An SMS carries at most this much of a rejection's reason (the email carries all of it).
SMS_REASON_CHARS = 160


def _appointment_of(message: OutboxMessage) -> Appointment:
    if message.appointment is None:
        raise ValueError(f"outbox message {message.pk} has no appointment")
    return message.appointment


def _manage_url(message: OutboxMessage, appointment: Appointment) -> str:
    token = message.payload.get("manage_token")
    return documents.manage_url(appointment, token) if token else ""


# Email -----------------------------------------------------------------------------------


def tracking_url(language: str) -> str:
    """The public tracking page (/suivi/, in English /en/suivi/), where an applicant
    follows a passport file."""
    with translation.override(language):
        path = reverse("track")
    return f"{settings.PORTAL_URL}{path}"


def _file_context(message: OutboxMessage, appointment: Appointment) -> dict:
    """What a file's message tells besides the appointment: carried in its payload, as the
    file was when the event happened (production.notifications writes it)."""
    payload = message.payload
    reopens_at = payload.get("reopens_at")
    return {
        "file_reference": payload.get("file_reference", ""),
        "reason": payload.get("reason", ""),
        "suspended": bool(payload.get("suspended")),
        "reopens": documents.local_datetime_label(
            datetime.fromisoformat(reopens_at), appointment.office.timezone
        )
        if reopens_at
        else "",
        "tracking_url": tracking_url(message.language),
    }


def _email_context(message: OutboxMessage, appointment: Appointment) -> dict:
    office, slot = appointment.office, appointment.slot
    context = {
        "language": message.language,
        "reference": appointment.reference,
        "name": documents.applicant_name(appointment),
        "when": documents.local_datetime_label(slot.starts_at, office.timezone),
        "office_name": office.display_name,
        "office_address_lines": documents.address_lines(appointment),
        "what_to_bring": [str(item) for item in documents.WHAT_TO_BRING],
        "manage_url": _manage_url(message, appointment),
        "portal_url": documents.portal_url(message.language),
        "track_appointment_url": (
            f"{tracking_url(message.language)}?reference={appointment.reference}"
        ),
    }
    if message.kind.startswith("file_"):
        context.update(_file_context(message, appointment))
    if message.kind == "booking_code":
        context.update(_code_context(message, appointment))
    if message.kind == "track_link":
        context["track_link_url"] = _track_link_url(message)
        context["track_link_hours"] = settings.TRACK_LINK_HOURS
        context["tracked_reference"] = message.payload.get("tracked", appointment.reference)
    return context


def _track_link_url(message: OutboxMessage) -> str:
    """The tracking link a `track_link` message carries (production.tracking)."""
    token = message.payload.get("track_token")
    if not token:
        return ""
    with translation.override(message.language):
        path = reverse("track-link", kwargs={"token": token})
    return f"{settings.PORTAL_URL}{path}"


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


def render_email(message: OutboxMessage) -> mail.EmailMultiAlternatives:
    """The email of an outbox message, in its language, with its attachments."""
    appointment = _appointment_of(message)
    with translation.override(message.language):
        context = _email_context(message, appointment)
        template = f"appointments/email/{message.kind}"
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        context["subject"] = subject
        email = mail.EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"Content-Language": message.language, "Auto-Submitted": "auto-generated"},
        )
        email.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
        if message.kind in WITH_DOCUMENTS:
            reference = appointment.reference
            email.attach(
                f"{reference}.ics", documents.appointment_ics(appointment), "text/calendar"
            )
            email.attach(
                f"convocation-{reference}.pdf",
                documents.appointment_pdf(appointment, manage_url=context["manage_url"] or None),
                "application/pdf",
            )
    return email


# SMS -------------------------------------------------------------------------------------


def sms_text(message: OutboxMessage) -> str:
    """The SMS of an outbox message, in its language: short, with the manage link when the
    message carries the token."""
    appointment = _appointment_of(message)
    office, slot = appointment.office, appointment.slot
    with translation.override(message.language):
        manage = _manage_url(message, appointment)
        reason = " ".join(message.payload.get("reason", "").split())
        if len(reason) > SMS_REASON_CHARS:
            reason = reason[: SMS_REASON_CHARS - 1].rstrip() + "…"
        text = SMS_TEXTS[message.kind] % {
            "reference": appointment.reference,
            "when": documents.local_datetime_label(slot.starts_at, office.timezone),
            "office": office.display_name,
            "url": manage or documents.portal_url(message.language),
            "file": message.payload.get("file_reference", ""),
            "reason": reason,
            "code": message.payload.get("code", ""),
            "track_url": _track_link_url(message),
            "hours": settings.TRACK_LINK_HOURS,
            "tracked": message.payload.get("tracked", appointment.reference),
        }
        if manage and message.kind != "booking_displaced":
            text += " " + _("Déplacer ou annuler : %(url)s") % {"url": manage}
        if message.kind == "booking_code" and appointment.replaces_id:
            text += " " + _("Il remplacera votre rendez-vous %(reference)s.") % {
                "reference": appointment.replaces.reference
            }
    return text
