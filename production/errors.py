from django.utils.translation import gettext_lazy as _

from core.errors import BadRequest, Conflict


class IllegalTransition(Conflict):
    code = "illegal_transition"
    default_detail = _("Ce changement de statut n’est pas permis pour ce dossier.")


class PouchOnly(Conflict):
    code = "pouch_only"
    default_detail = _(
        "Ce passeport voyage par valise diplomatique : il part et arrive seulement par les "
        "pages des valises."
    )


class StatusChanged(Conflict):
    code = "status_changed"
    default_detail = _(
        "Le statut du dossier a changé entre-temps. Rechargez-le avant de continuer."
    )


class ReasonRequired(BadRequest):
    code = "reason_required"
    default_detail = _("Indiquez le motif du rejet.")
