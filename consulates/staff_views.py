"""Pouch pages of the staff workspace: the centre ships a mission's passports, the mission
receives them. Scoped like every staff page: a centre's operators see their missions'
pouches, a mission's agents see the pouches addressed to it; anything else is not found."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from appointments.models import Membership
from epassport.errors import DomainError
from production.models import FileStatus

from . import services
from .models import Mission, Shipment


def _missions_shipped_by(user) -> list[Mission]:
    memberships = Membership.objects.filter(user=user)
    missions = Mission.objects.select_related("office", "centre__office")
    if not memberships.filter(role=Membership.Role.ADMIN).exists():
        centres = memberships.filter(role=Membership.Role.OPERATOR).values("office_id")
        missions = missions.filter(centre__office_id__in=centres)
    return list(
        missions.annotate(
            waiting=Count(
                "office__files",
                filter=Q(office__files__status=FileStatus.QUALITY_CHECK)
                & Q(office__files__centre=F("centre")),
            )
        ).order_by("office__city")
    )


def _shipments_received_by(user):
    memberships = Membership.objects.filter(user=user)
    shipments = Shipment.objects.select_related("mission__office", "centre__office")
    if not memberships.filter(role=Membership.Role.ADMIN).exists():
        offices = memberships.filter(
            role__in=[Membership.Role.AGENT, Membership.Role.SUPERVISOR]
        ).values("office_id")
        shipments = shipments.filter(mission__office_id__in=offices)
    return shipments


@login_required
@require_http_methods(["GET"])
def pouches(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/pouches.html",
        {
            "missions": _missions_shipped_by(request.user),
            "incoming": _shipments_received_by(request.user)
            .filter(status=Shipment.Status.SENT)
            .prefetch_related("items__file"),
            "recent": _shipments_received_by(request.user).exclude(status=Shipment.Status.SENT)[
                :20
            ],
        },
    )


@login_required
@require_POST
def pouch_send(request: HttpRequest, mission_id: int) -> HttpResponse:
    mission = next((m for m in _missions_shipped_by(request.user) if m.pk == mission_id), None)
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
    shipment = _shipments_received_by(request.user).filter(pk=shipment_id).first()
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
