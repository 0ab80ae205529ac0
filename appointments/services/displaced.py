"""Appointments a suspension (or a closure) displaced: seats held back for them after the
reopening, and their rebooking.

- When a suspension is made or its reopening set or moved, a share of the seats of the
  first working days after the reopening (settings DISPLACED_RESERVED_SHARE and
  DISPLACED_RESERVED_WORKING_DAYS) is held back at each office concerned that has displaced
  appointments (`Slot.reserved`): the booking rule leaves them out of new bookings, so that
  the rush of a reopening morning cannot take every seat before the displaced are rebooked.
- Once booking is open at an office again, `displaced_rebook` (run by the backlog, at the
  reopening's clocked task and every few minutes) books those not moved by their applicant
  into the first free seats, in the order of their original times, one statement per chunk
  (rebook.sql); each applicant gets a new manage link by email and SMS. When no displaced
  appointment is left at an office, its held-back seats are given back to everyone.
  An appointment is rebooked once: the statement takes only `displaced` rows, locked, and
  makes them `booked`.
"""

import functools
import math
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Greatest
from django.utils import timezone

from core import chunks, sql
from core.models import Office

from .. import eligibility, notifications, transitions
from ..models import Appointment, Slot, Suspension

REBOOK = sql.load(Path(__file__).with_name("rebook.sql"), AppointmentStatus=Appointment.Status)
# The move rebook.sql makes: the table of moves must allow it (checked at import).
assert transitions.allowed(
    start=Appointment.Status.DISPLACED, to=Appointment.Status.BOOKED, action=transitions.REBOOK
)


def _working_days_from(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _reserve_at(office: Office, *, reopens_at: datetime, share: float, days: int) -> int:
    """Hold back `share` of the seats of each of the office's first `days` working days from
    the reopening, spread evenly over each day's seats in time order."""
    tz = office.timezone
    reopening_day = reopens_at.astimezone(tz).date()
    held = 0
    for day in _working_days_from(reopening_day, days):
        start = max(reopens_at, datetime.combine(day, time.min, tzinfo=tz))
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
        slots = list(
            Slot.objects.select_for_update()
            .filter(office=office, starts_at__gte=start, starts_at__lt=end)
            .order_by("starts_at", "pk")
        )
        seat = 0
        for slot in slots:
            before = math.floor(seat * share)
            seat += slot.capacity
            wanted = math.floor(seat * share) - before
            slot.reserved = max(0, min(wanted, slot.capacity - slot.booked))
            held += slot.reserved
        Slot.objects.bulk_update(slots, ["reserved"])
    return held


def displaced_reserve(*, suspension: Suspension) -> int:
    """Hold back seats after the suspension's reopening at each office it concerns that has
    displaced appointments (those held back before at these offices are recomputed)."""
    offices = list(suspension.offices.all()) or list(Office.objects.filter(active=True))
    office_ids = [office.pk for office in offices]
    Slot.objects.filter(office_id__in=office_ids, reserved__gt=0).update(reserved=0)
    share, days = settings.DISPLACED_RESERVED_SHARE, settings.DISPLACED_RESERVED_WORKING_DAYS
    if suspension.reopens_at is None or share == 0 or days == 0:
        return 0
    waiting = set(
        Appointment.objects.filter(
            office_id__in=office_ids, status=Appointment.Status.DISPLACED, erased_at__isnull=True
        ).values_list("office_id", flat=True)
    )
    return sum(
        _reserve_at(office, reopens_at=suspension.reopens_at, share=share, days=days)
        for office in offices
        if office.pk in waiting
    )


def _offices_to_rebook(*, now: datetime) -> list[int]:
    """Active offices with displaced appointments where no suspension is in force now."""
    displaced = Appointment.objects.filter(
        office=OuterRef("pk"), status=Appointment.Status.DISPLACED, erased_at__isnull=True
    )
    return list(
        Office.objects.filter(active=True)
        .filter(Exists(displaced))
        .exclude(eligibility.suspended(at=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _rebook_chunk(size: int, *, office_id: int, now: datetime) -> int:
    """One chunk, in the caller's transaction; a seat taken by a booking at the same moment
    makes the database refuse the statement (slot_within_capacity): it is tried again, in a
    savepoint."""
    for _attempt in range(3):
        try:
            with (
                transaction.atomic(),
                transitions.recorded(action=transitions.REBOOK, at=now),
                connection.cursor() as cursor,
            ):
                cursor.execute(REBOOK.sql, {"office": office_id, "now": now, "chunk": size})
                rows = cursor.fetchall()
                # The seats they took were held back for them: no longer.
                for slot_id, taken in Counter(slot_id for _a, slot_id, _t in rows).items():
                    Slot.objects.filter(pk=slot_id).update(
                        reserved=Greatest(F("reserved") - taken, 0)
                    )
                for appointment_id, slot_id, token in rows:
                    notifications.enqueue(
                        appointment=appointment_id,
                        kind="booking_rebooked",
                        key=notifications.appointment_key(appointment_id, "rebooked", slot_id),
                        payload={"manage_token": token},
                    )
                return len(rows)
        except IntegrityError as error:
            if "slot_within_capacity" not in str(error):
                raise
    return 0


def displaced_rebook(*, now: datetime | None = None) -> int:
    """Rebook the displaced appointments of every office where booking is open again;
    returns how many. Idempotent: what is left displaced is what has no seat (yet) or whose
    applicant holds another appointment."""
    now = now or timezone.now()
    rebooked = 0
    for office_id in _offices_to_rebook(now=now):
        rebooked += chunks.claim_in_chunks(
            functools.partial(_rebook_chunk, office_id=office_id, now=now)
        )
        if not Appointment.objects.filter(
            office_id=office_id, status=Appointment.Status.DISPLACED, erased_at__isnull=True
        ).exists():
            Slot.objects.filter(office_id=office_id, reserved__gt=0).update(reserved=0)
    return rebooked
