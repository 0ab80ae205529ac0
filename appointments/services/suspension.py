"""Suspensions of the Premium service, by administrators of the ministry.

While a suspension is in force at an office, booking is closed there (the one rule of
appointments/eligibility.py: computed, so that it opens at `reopens_at` exactly without
anyone acting); the appointments booked inside it become `displaced` and their applicants
are told; the files waiting for production there are held (the production app, through
the signal `suspension_changed`). Its start and its reopening are also one-off clocked tasks
of django-celery-beat that run the backlog (hold, release, dispatch) at that moment; the
periodic dispatcher does the same every few minutes, so nothing depends on them firing.
"""

import json
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import access
from core.errors import BadRequest, Forbidden
from core.models import Office

from .. import signals
from ..models import Slot, Suspension
from .calendar import appointments_displace, lock_out_bookings
from .displaced import displaced_reserve

# The clocked task of a suspension's start and reopening (tasks.suspension_edge): it tells the
# apps that follow suspensions (signals.suspension_edge), the production app runs its backlog.
EDGE_TASK = "appointments.suspension_edge"


class InvalidSuspension(BadRequest):
    code = "invalid"
    default_detail = _("Cette suspension n’est pas valable.")


def _require_admin(by) -> None:
    if not access.staff_scope(by).is_admin:
        raise Forbidden()


def _check(*, starts_at: datetime, reopens_at: datetime | None) -> None:
    if reopens_at is not None and reopens_at <= starts_at:
        raise InvalidSuspension(
            _("La réouverture doit suivre le début de la suspension."),
            fields={"reopens_at": [str(_("La réouverture doit suivre le début."))]},
        )


def _check_not_past(*, reopens_at: datetime | None, now: datetime) -> None:
    if reopens_at is not None and reopens_at <= now:
        detail = _("Cette suspension serait déjà terminée : la réouverture est passée.")
        raise InvalidSuspension(detail, fields={"reopens_at": [str(detail)]})


def _check_no_overlap(
    *, pk: int | None, starts_at: datetime, reopens_at: datetime | None, offices: list[Office]
) -> None:
    """One suspension at a time per office: two that overlap would leave an office's
    reopening to whichever ends last, and moving one would not reopen it. Checked under
    lock_out_bookings's table lock, which two suspension writes cannot hold at once. (No
    offices: every office.)"""
    others = Suspension.objects.exclude(pk=pk).prefetch_related("offices")
    others = others.filter(Q(reopens_at__isnull=True) | Q(reopens_at__gt=starts_at))
    if reopens_at is not None:
        others = others.filter(starts_at__lt=reopens_at)
    mine = {office.pk for office in offices}
    for other in others:
        theirs = {office.pk for office in other.offices.all()}
        if not mine or not theirs or mine & theirs:
            detail = _(
                "Une autre suspension (n° %(id)s) couvre déjà ces bureaux sur cette période : "
                "modifiez-la plutôt (ou sa réouverture)."
            ) % {"id": other.pk}
            raise InvalidSuspension(detail, fields={"starts_at": [str(detail)]})


def _offices(codes: list[str] | None) -> list[Office]:
    if codes is None:
        return []
    offices = list(Office.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {office.code for office in offices})
    if missing or not codes:
        detail = _("Bureau inconnu : %(codes)s.") % {"codes": ", ".join(missing) or "[]"}
        raise InvalidSuspension(detail, fields={"offices": [str(detail)]})
    return offices


def _displace(suspension: Suspension) -> int:
    """Displace the appointments booked inside the suspension, at the offices it concerns."""
    slots = Slot.objects.filter(starts_at__gte=suspension.starts_at)
    if suspension.reopens_at is not None:
        slots = slots.filter(starts_at__lt=suspension.reopens_at)
    office_ids = list(suspension.offices.values_list("pk", flat=True))
    if office_ids:
        slots = slots.filter(office_id__in=office_ids)
    return appointments_displace(slots=slots)


def _clocked_name(suspension_id: int, edge: str) -> str:
    return f"suspension {suspension_id}: {edge}"


def _schedule_edges(suspension_id: int, edges: dict[str, datetime | None]) -> None:
    """One one-off clocked task per edge (start, reopening) that tells the production app to
    run its backlog then; moved when the time moves, removed when it goes."""
    from django_celery_beat.models import ClockedSchedule, PeriodicTask

    for edge, at in edges.items():
        name = _clocked_name(suspension_id, edge)
        if at is None:
            PeriodicTask.objects.filter(name=name).delete()
            continue
        clocked, _created = ClockedSchedule.objects.get_or_create(clocked_time=at)
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": EDGE_TASK,
                "kwargs": json.dumps({"suspension_id": suspension_id, "edge": edge}),
                "clocked": clocked,
                "interval": None,
                "crontab": None,
                "one_off": True,
                "enabled": True,
                "last_run_at": None,
                "description": str(_("Suspension : début ou réouverture, le backlog suit.")),
            },
        )
    ClockedSchedule.objects.filter(periodictask__isnull=True).delete()


def _edges(suspension: Suspension, *, now: datetime) -> dict[str, datetime | None]:
    return {
        "start": suspension.starts_at if suspension.starts_at > now else None,
        "reopening": suspension.reopens_at,
    }


def _apply(suspension: Suspension, *, now: datetime) -> None:
    """What follows a suspension made or changed: the appointments inside it displaced,
    seats held back for them after the reopening, files held or released (the production
    app, by the signal), and the clocked tasks of its start and reopening."""
    _displace(suspension)
    displaced_reserve(suspension=suspension)
    signals.suspension_changed.send(sender=Suspension, suspension=suspension, now=now)
    _schedule_edges(suspension.pk, _edges(suspension, now=now))


@transaction.atomic
def suspension_create(
    *,
    by,
    starts_at: datetime,
    reopens_at: datetime | None,
    office_codes: list[str] | None,
    message_fr: str,
    message_en: str = "",
    now: datetime | None = None,
    history: bool = False,
) -> Suspension:
    """Suspend the Premium service at these offices (None: all) from `starts_at` until
    `reopens_at` (None: until further notice). Administrators only (Forbidden). One already
    over is refused, unless `history` (data that records past suspensions: the benchmarks)."""
    _require_admin(by)
    now = now or timezone.now()
    _check(starts_at=starts_at, reopens_at=reopens_at)
    if not history:
        _check_not_past(reopens_at=reopens_at, now=now)
    offices = _offices(office_codes)
    lock_out_bookings()
    _check_no_overlap(pk=None, starts_at=starts_at, reopens_at=reopens_at, offices=offices)
    suspension = Suspension(
        starts_at=starts_at, reopens_at=reopens_at, message=message_fr, message_en=message_en
    )
    suspension.full_clean()
    suspension.save()
    suspension.offices.set(offices)
    _apply(suspension, now=now)
    return suspension


@transaction.atomic
def suspension_update(
    *, suspension: Suspension, by, now: datetime | None = None, **fields
) -> Suspension:
    """Change a suspension (`reopens_at`, `starts_at`, `message_fr`, `message_en`,
    `office_codes`): set or move the reopening. Appointments that fall inside it now are
    displaced; those displaced already stay so (their applicants choose another time).
    Administrators only."""
    _require_admin(by)
    locked = Suspension.objects.select_for_update().get(pk=suspension.pk)
    offices = _offices(fields.pop("office_codes")) if "office_codes" in fields else None
    names = {"message_fr": "message", "message_en": "message_en"}
    for name, value in fields.items():
        setattr(locked, names.get(name, name), value)
    _check(starts_at=locked.starts_at, reopens_at=locked.reopens_at)
    lock_out_bookings()
    _check_no_overlap(
        pk=locked.pk,
        starts_at=locked.starts_at,
        reopens_at=locked.reopens_at,
        offices=offices if offices is not None else list(locked.offices.all()),
    )
    locked.full_clean()
    locked.save()
    if offices is not None:
        locked.offices.set(offices)
    _apply(locked, now=now or timezone.now())
    return locked


@transaction.atomic
def suspension_delete(*, suspension: Suspension, by, now: datetime | None = None) -> None:
    """Remove a suspension (one made by mistake): its clocked tasks go, and the files it held
    are released where no other suspension is in force. Displaced appointments stay so."""
    _require_admin(by)
    suspension_id = suspension.pk
    Suspension.objects.filter(pk=suspension_id).delete()
    _schedule_edges(suspension_id, {"start": None, "reopening": None})
    signals.suspension_changed.send(sender=Suspension, suspension=None, now=now or timezone.now())
