"""The waiting room's signed tokens and cookies, and its errors. A place's credential and an
admission are signed with django.core.signing, each with a salt of its own: they cannot be
forged, and one is never taken for the other."""

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, Forbidden

from ..models import WaitingTicket
from .window import window_minutes

ADMISSION_HEADER = "X-Admission"
TICKET_SALT = "appointments.waiting_room.ticket"
ADMISSION_SALT = "appointments.waiting_room.admission"
DRAW_SALT = "appointments.waiting_room.draw"
# A person reloads the waiting page at most this often, and at least this often.
REFRESH_MIN_SECONDS = 3
REFRESH_MAX_SECONDS = 60


class AdmissionRequired(Forbidden):
    code = "admission_required"
    default_detail = _(
        "La réservation rouvre dans ce bureau : pour être juste envers tous, elle passe par "
        "la salle d’attente. Prenez une place ; vous pourrez réserver à votre tour."
    )


class WaitingRoomFullNetwork(DomainError):
    code = "waiting_room_full_network"
    status = 429
    default_detail = _(
        "Trop de places ont déjà été prises dans la salle d’attente depuis votre adresse "
        "Internet. Réessayez plus tard, ou depuis une autre connexion."
    )


class AdmissionExpired(DomainError):
    code = "admission_expired"
    status = 410
    default_detail = _(
        "Votre tour est passé depuis plus longtemps que le délai pour réserver. Reprenez une "
        "place dans la salle d’attente."
    )


# Signed tokens -----------------------------------------------------------------------------


def ticket_cookie(office_id: int) -> str:
    return f"waiting_ticket_{office_id}"


def admission_cookie(office_id: int) -> str:
    return f"admission_{office_id}"


def cookie_max_age() -> int:
    return int((2 * window_minutes()).total_seconds()) + 60 * settings.ADMISSION_MINUTES


def _ticket_credential(ticket: WaitingTicket, office_id: int) -> str:
    return signing.Signer(salt=TICKET_SALT).sign_object(
        {"o": office_id, "l": ticket.line_id, "t": ticket.pk}
    )


def _unsign(value: str | None, *, salt: str) -> dict | None:
    if not value or len(value) > 500:
        return None
    try:
        data = signing.Signer(salt=salt).unsign_object(value)
    except (signing.BadSignature, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _admission(*, office_id: int, suspension_id: int | None, ticket_id: int | None, at) -> str:
    return signing.Signer(salt=ADMISSION_SALT).sign_object(
        {"o": office_id, "s": suspension_id, "t": ticket_id, "a": int(at.timestamp())}
    )
