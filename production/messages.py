"""What production's outbox messages say: a passport file's steps (`file_*`, which
production.notifications decides to send) and the tracking link (`track_link`,
production.tracking), registered with the outbox (core.outbox.kinds) by
ProductionConfig.ready(). Each tells its applicant through the appointment the file came
from: the email shares the appointments' layout and context (appointments.message_context)."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from appointments import documents
from appointments.message_context import appointment_context, appointment_of
from core.models import OutboxMessage
from core.outbox.kinds import Kind

FILE_SMS_TEXTS = {
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
TRACK_LINK_SMS = gettext_lazy(
    "Passeport Premium : suivez votre dossier %(tracked)s ici, sans date de naissance "
    "(lien valable %(hours)s h, ne le transmettez pas) : %(track_url)s"
)
# An SMS carries at most this much of a rejection's reason (the email carries all of it).
SMS_REASON_CHARS = 160


# A passport file's steps -------------------------------------------------------------------


def file_context(message: OutboxMessage) -> dict:
    """The appointment's context, and what the message tells of the file: carried in its
    payload, as the file was when the event happened (production.notifications writes it)."""
    appointment = appointment_of(message)
    payload = message.payload
    reopens_at = payload.get("reopens_at")
    return {
        **appointment_context(message, appointment),
        "file_reference": payload.get("file_reference", ""),
        "reason": payload.get("reason", ""),
        "suspended": bool(payload.get("suspended")),
        "reopens": documents.local_datetime_label(
            datetime.fromisoformat(reopens_at), appointment.office.timezone
        )
        if reopens_at
        else "",
        "tracking_url": documents.tracking_url(message.language),
    }


def file_sms(message: OutboxMessage) -> str:
    appointment = appointment_of(message)
    reason = " ".join(message.payload.get("reason", "").split())
    if len(reason) > SMS_REASON_CHARS:
        reason = reason[: SMS_REASON_CHARS - 1].rstrip() + "…"
    return FILE_SMS_TEXTS[message.kind] % {
        "file": message.payload.get("file_reference", ""),
        "office": appointment.office.display_name,
        "reason": reason,
    }


# The tracking link -------------------------------------------------------------------------


def track_link_url(message: OutboxMessage) -> str:
    """The tracking link a `track_link` message carries (production.tracking)."""
    token = message.payload.get("track_token")
    if not token:
        return ""
    with translation.override(message.language):
        path = reverse("track-link", kwargs={"token": token})
    return f"{settings.PORTAL_URL}{path}"


def track_link_context(message: OutboxMessage) -> dict:
    appointment = appointment_of(message)
    return {
        **appointment_context(message, appointment),
        "track_link_url": track_link_url(message),
        "track_link_hours": settings.TRACK_LINK_HOURS,
        "tracked_reference": message.payload.get("tracked", appointment.reference),
    }


def track_link_sms(message: OutboxMessage) -> str:
    appointment = appointment_of(message)
    return TRACK_LINK_SMS % {
        "tracked": message.payload.get("tracked", appointment.reference),
        "hours": settings.TRACK_LINK_HOURS,
        "track_url": track_link_url(message),
    }


KINDS = [
    *(
        Kind(
            name=name,
            sms=file_sms,
            context=file_context,
            template=f"production/email/{name}",
        )
        for name in FILE_SMS_TEXTS
    ),
    Kind(
        name="track_link",
        sms=track_link_sms,
        context=track_link_context,
        template="production/email/track_link",
        secrets=("track_token",),
    ),
]
