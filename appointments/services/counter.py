"""Counter work at an office: check an applicant in, mark them absent; and which of those
(and enrolment, production.services.file_enrol) the counter may do now."""

from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import access
from core.errors import NotFound
from core.models import Office

from .. import notifications, transitions
from ..errors import EvictionRefused, NotChangeable
from ..models import Appointment


class CounterAction(StrEnum):
    CHECK_IN = "check-in"
    NO_SHOW = "no-show"
    ENROL = "enrol"


def counter_actions(*, appointment: Appointment, now: datetime) -> list[CounterAction]:
    """What the counter may do with this appointment at `now`: the one rule that the
    services enforce and the agenda's buttons show. Check-in while booked; no-show while
    booked, once the appointment's time has begun; enrolment once booked or checked in."""
    actions = []
    if appointment.status == Appointment.Status.BOOKED:
        actions.append(CounterAction.CHECK_IN)
        if appointment.slot.starts_at <= now:
            actions.append(CounterAction.NO_SHOW)
    if appointment.status in (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN):
        actions.append(CounterAction.ENROL)
    return actions


def appointment_lock_for_counter(*, appointment: Appointment | int, by) -> Appointment:
    """Lock an appointment for counter work by `by`; NotFound if it is not of their office."""
    appointment_id = appointment if isinstance(appointment, int) else appointment.pk
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot", "office")
        .filter(pk=appointment_id)
        .first()
    )
    if locked is None or not access.staff_scope(by).works_at_counter(locked.office_id):
        raise NotFound(_("Rendez-vous introuvable."))
    return locked


# The status an appointment reaches by each counter action (enrolment: file_enrol), and the
# action its event names.
_STATUS_AFTER = {
    CounterAction.CHECK_IN: Appointment.Status.CHECKED_IN,
    CounterAction.NO_SHOW: Appointment.Status.NO_SHOW,
}
_EVENT_ACTION = {
    CounterAction.CHECK_IN: transitions.CHECK_IN,
    CounterAction.NO_SHOW: transitions.NO_SHOW,
}


def _counter_step(
    appointment: Appointment | int, by, action: CounterAction, now: datetime | None = None
) -> Appointment:
    """Lock, check the action against counter_actions and set the status (idempotent: an
    appointment already there is returned as it is)."""
    locked = appointment_lock_for_counter(appointment=appointment, by=by)
    if locked.status == _STATUS_AFTER[action]:
        return locked
    if action not in counter_actions(appointment=locked, now=now or timezone.now()):
        raise NotChangeable()
    locked.status = _STATUS_AFTER[action]
    with transitions.recorded(action=_EVENT_ACTION[action], by=by):
        locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def appointment_check_in(*, appointment: Appointment | int, by) -> Appointment:
    """The applicant is at the counter (idempotent: checking in twice changes nothing)."""
    return _counter_step(appointment, by, CounterAction.CHECK_IN)


@transaction.atomic
def appointment_no_show(
    *, appointment: Appointment | int, by, now: datetime | None = None
) -> Appointment:
    """The applicant did not come: only once the appointment's time has begun."""
    return _counter_step(appointment, by, CounterAction.NO_SHOW, now)


# Statuses an eviction ends, and the status each ends in: a hold expires, a booking (or one a
# suspension displaced, which would be rebooked for its holder) is cancelled. An applicant
# already at the counter, enrolled or past is never touched.
_EVICTED_TO = {
    Appointment.Status.PENDING: Appointment.Status.EXPIRED,
    Appointment.Status.BOOKED: Appointment.Status.CANCELLED,
    Appointment.Status.DISPLACED: Appointment.Status.CANCELLED,
}
EVICTION_REASON_MIN_LENGTH = 10


@transaction.atomic
def appointment_evict(
    *, national_id: str, office: Office, by, reason: str, now: datetime | None = None
) -> list[Appointment]:
    """At the counter of `office`, after checking the identity document of the person whose
    identity number this is: end every booking and hold made with it, at any office, so
    that its rightful holder can book (whoever booked first with their number, a tout
    included, otherwise keeps it). Each change is an AppointmentEvent naming the agent and
    the reason, which nobody can edit; the evicted booking's contacts are told. Returns the
    appointments changed (none: nothing was held with this number).

    NotFound unless `by` works at the counter of `office`; EvictionRefused without a reason.
    The answer says how many were ended, never where or when: an agent of one office learns
    nothing of another office's bookings."""
    if not access.staff_scope(by).works_at_counter(office.pk):
        raise NotFound(_("Bureau introuvable."))
    reason = (reason or "").strip()
    if len(reason) < EVICTION_REASON_MIN_LENGTH:
        raise EvictionRefused()
    now = now or timezone.now()
    locked = list(
        Appointment.objects.select_for_update(of=("self",))
        .filter(national_id=national_id, status__in=list(_EVICTED_TO))
        .order_by("pk")
    )
    for appointment in locked:
        before = appointment.status
        appointment.status = _EVICTED_TO[before]
        note = f"{office.code}: {reason}"
        with transitions.recorded(action=transitions.EVICT, by=by, note=note, at=now):
            appointment.save(update_fields=["status", "updated_at"])
        if before != Appointment.Status.PENDING:
            notifications.enqueue(
                appointment=appointment,
                kind="booking_cancelled",
                key=notifications.appointment_key(appointment.pk, "cancelled"),
            )
    return locked
