"""Reads of missions and pouches, scoped by the staff scope (core/access.py): a
centre's operators see the missions they ship to, a mission's counter staff the pouches
addressed to it, administrators everything."""

from django.contrib.auth.models import User
from django.db.models import Count, F, Q, QuerySet

from core.access import staff_scope
from production.models import FileStatus

from .models import Mission, Shipment


def missions_shipped_by(*, user: User) -> list[Mission]:
    """The missions whose passports this member of staff's centres produce, each annotated
    with `waiting`: its passports that passed quality control, ready for the pouch."""
    missions = Mission.objects.select_related("office", "centre__office").filter(
        staff_scope(user).centre_filter("centre__office_id")
    )
    return list(
        missions.annotate(
            waiting=Count(
                "office__files",
                filter=Q(office__files__status=FileStatus.QUALITY_CHECK)
                & Q(office__files__centre=F("centre")),
            )
        ).order_by("office__city")
    )


def shipments_received_by(*, user: User) -> QuerySet[Shipment]:
    """The pouches addressed to the missions whose counter this member of staff works at."""
    return Shipment.objects.select_related("mission__office", "centre__office").filter(
        staff_scope(user).counter_filter("mission__office_id")
    )
