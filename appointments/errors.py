from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import BadRequest, Conflict, DomainError, Forbidden


class SlotFull(Conflict):
    """With `next_free`, the slots offered instead (Slot objects, for the pages); the API's
    body gives them with their times at the office's UTC offset."""

    code = "slot_full"
    default_detail = _("Ce créneau est complet. Choisissez un autre horaire.")

    def as_dict(self) -> dict[str, Any]:
        from .api.serializers import slots_body

        body = super().as_dict()
        if "next_free" in body:
            slots = list(body["next_free"] or [])
            # All offered slots are of the office of the full one: its timezone, once.
            body["next_free"] = (
                slots_body(slots, timezone=slots[0].office.timezone) if slots else []
            )
        return body


class AlreadyBooked(Conflict):
    code = "already_booked"
    default_detail = _(
        "Un rendez-vous est déjà réservé avec ce numéro d’identité. Pour le déplacer ou "
        "l’annuler, utilisez le lien reçu par e-mail dans la confirmation."
    )


class BookingClosed(Conflict):
    """With `reopens_at` (null when no date is set)."""

    code = "booking_closed"
    default_detail = _("La réservation Premium est fermée pour ce bureau.")

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body.setdefault("reopens_at", None)
        return body


class SlotInPast(Conflict):
    code = "slot_past"
    default_detail = _("Ce créneau est déjà passé. Choisissez un horaire à venir.")


class NotChangeable(Conflict):
    code = "not_changeable"
    default_detail = _("Ce rendez-vous ne peut plus être modifié.")


class NoChannelLeft(BadRequest):
    code = "no_channel"
    default_detail = _(
        "Gardez au moins un moyen d’être prévenu : les e-mails ou les SMS. Les deux ne "
        "peuvent pas être désactivés."
    )


class WrongCode(BadRequest):
    """A wrong confirmation code; `attempts_left` says how many tries remain (none: the
    hold is released)."""

    code = "wrong_code"
    default_detail = _("Ce code n’est pas le bon. Vérifiez le dernier code reçu.")


class HoldExpired(Conflict):
    code = "hold_expired"
    default_detail = _(
        "Le délai pour saisir le code est dépassé et la place a été libérée. Réservez à nouveau."
    )


class AdmissionUsed(Forbidden):
    """The waiting room's admission has already made a booking or a hold that still holds
    its seat: one admission, one seat at a time."""

    code = "admission_used"
    default_detail = _(
        "Cette admission a déjà servi à réserver une place. Saisissez le code reçu pour la "
        "confirmer, ou gérez le rendez-vous avec le lien reçu."
    )


class TooManyHolds(DomainError):
    """A pending hold over one of its bounds (one per identity number, phone and mailbox,
    HOLDS_PER_NETWORK per network); `retry_after` says in how many seconds one ends."""

    code = "too_many_holds"
    status = 429
    default_detail = _(
        "Une place est déjà retenue en attente de son code pour ce numéro d’identité, ce "
        "téléphone, cette adresse e-mail ou votre réseau. Saisissez le code reçu, ou réessayez "
        "quand cette place sera libérée."
    )


class TooManyCodeFailures(DomainError):
    """Too many wrong codes for this identity number today: no new hold may replace its
    booking (its holder keeps it; they change it with their own link or at the counter)."""

    code = "too_many_code_failures"
    status = 429
    default_detail = _(
        "Trop de codes erronés pour ce numéro d’identité aujourd’hui. Le rendez-vous existant "
        "reste valable : modifiez-le avec le lien reçu dans sa confirmation, ou au guichet."
    )


class TooManyMoves(Conflict):
    code = "too_many_moves"
    default_detail = _(
        "Ce rendez-vous a déjà été déplacé le nombre de fois permis. Annulez-le et réservez "
        "à nouveau, ou adressez-vous au guichet."
    )


class EvictionRefused(BadRequest):
    code = "reason_required"
    default_detail = _(
        "Indiquez la pièce d’identité vérifiée et la raison (au moins 10 caractères)."
    )
