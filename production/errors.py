from django.utils.translation import gettext_lazy as _

from epassport.errors import DomainError


class IllegalTransition(DomainError):
    code = "illegal_transition"
    status = 409
    default_detail = _("Ce changement de statut n’est pas permis pour ce dossier.")


class StatusChanged(DomainError):
    code = "status_changed"
    status = 409
    default_detail = _(
        "Le statut du dossier a changé entre-temps. Rechargez-le avant de continuer."
    )


class ReasonRequired(DomainError):
    code = "reason_required"
    status = 400
    default_detail = _("Indiquez le motif du rejet.")
