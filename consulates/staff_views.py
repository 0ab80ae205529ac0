"""Pouch pages of the staff workspace: the centre ships a mission's passports, the mission
receives them. Scoped like every staff page: a centre's operators see their missions'
pouches, a mission's agents see the pouches addressed to it; anything else is not found."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.errors import DomainError

from . import selectors, services
from .models import Shipment


@login_required
@require_safe
def pouches(request: HttpRequest) -> HttpResponse:
    received = selectors.shipments_received_by(user=request.user)
    context = {
        "missions": selectors.missions_shipped_by(user=request.user),
        "incoming": received.filter(status=Shipment.Status.SENT).prefetch_related("items__file"),
        "recent": received.exclude(status=Shipment.Status.SENT)[:20],
    }
    return render(request, "staff/pouches.html", context)


@login_required
@require_POST
def pouch_send(request: HttpRequest, mission_id: int) -> HttpResponse:
    missions = selectors.missions_shipped_by(user=request.user)
    mission = next((m for m in missions if m.pk == mission_id), None)
    if mission is None:
        raise Http404("not a mission of your centre")
    try:
        shipment = services.shipment_send(mission=mission, by=request.user)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(
            request,
            _("Valise expédiée : %(n)d passeport(s) pour %(mission)s.")
            % {"n": shipment.expected_count, "mission": mission.office.display_name},
        )
    return redirect("pouches:list")


@login_required
@require_POST
def pouch_receive(request: HttpRequest, shipment_id: int) -> HttpResponse:
    shipment = selectors.shipments_received_by(user=request.user).filter(pk=shipment_id).first()
    if shipment is None:
        raise Http404("not a pouch of your mission")
    try:
        shipment = services.shipment_receive(
            shipment=shipment, by=request.user, received=request.POST.getlist("received")
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        if shipment.status == Shipment.Status.INCOMPLETE:
            messages.warning(
                request,
                _("Valise incomplète : %(got)d reçu(s) sur %(sent)d. Les manquants sont signalés.")
                % {"got": shipment.received_count, "sent": shipment.expected_count},
            )
        else:
            messages.success(request, _("Valise reçue complète."))
    return redirect("pouches:list")
