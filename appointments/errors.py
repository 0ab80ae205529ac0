from django.utils.translation import gettext_lazy as _

from epassport.errors import BadRequest, Conflict


class SlotFull(Conflict):
    code = "slot_full"
    default_detail = _("Ce créneau est complet. Choisissez un autre horaire.")


class AlreadyBooked(Conflict):
    code = "already_booked"
    default_detail = _(
        "Un rendez-vous est déjà réservé avec ce numéro d’identité. Pour le déplacer ou "
        "l’annuler, utilisez le lien reçu par e-mail dans la confirmation."
    )


class BookingClosed(Conflict):
    code = "booking_closed"
    default_detail = _("La réservation Premium est fermée pour ce bureau.")


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
