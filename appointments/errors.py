from django.utils.translation import gettext_lazy as _

from epassport.errors import DomainError


class SlotFull(DomainError):
    code = "slot_full"
    status = 409
    default_detail = _("Ce créneau est complet. Choisissez un autre horaire.")


class AlreadyBooked(DomainError):
    code = "already_booked"
    status = 409
    default_detail = _(
        "Un rendez-vous est déjà réservé avec ce numéro d’identité. Pour le déplacer ou "
        "l’annuler, utilisez le lien reçu par e-mail dans la confirmation."
    )


class BookingClosed(DomainError):
    code = "booking_closed"
    status = 409
    default_detail = _("La réservation Premium est fermée pour ce bureau.")


class SlotInPast(DomainError):
    code = "slot_past"
    status = 409
    default_detail = _("Ce créneau est déjà passé. Choisissez un horaire à venir.")


class NotChangeable(DomainError):
    code = "not_changeable"
    status = 409
    default_detail = _("Ce rendez-vous ne peut plus être modifié.")
