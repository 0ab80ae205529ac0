from django.utils.translation import gettext_lazy as _

from epassport.errors import DomainError


class NothingToShip(DomainError):
    code = "nothing_to_ship"
    status = 409
    default_detail = _("Aucun passeport de cette mission n’attend la valise.")


class ShipmentAlreadyReceived(DomainError):
    code = "already_received"
    status = 409
    default_detail = _("Cette valise a déjà été réceptionnée.")


class NotInShipment(DomainError):
    code = "not_in_shipment"
    status = 400
    default_detail = _("Ces passeports ne font pas partie de la valise.")
