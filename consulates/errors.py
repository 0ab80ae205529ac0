from django.utils.translation import gettext_lazy as _

from core.errors import BadRequest, Conflict


class NothingToShip(Conflict):
    code = "nothing_to_ship"
    default_detail = _("Aucun passeport de cette mission n’attend la valise.")


class ShipmentAlreadyReceived(Conflict):
    code = "already_received"
    default_detail = _("Cette valise a déjà été réceptionnée.")


class NotInShipment(BadRequest):
    code = "not_in_shipment"
    default_detail = _("Ces passeports ne font pas partie de la valise.")
