"""The calendar of offices: offices, opening hours, slots and closures."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.models import Office

from .. import notifications, selectors, transitions
from ..models import Appointment, Closure, HolidayOverride, OpeningHours, Slot
from .verification import holds_release

SLOT_HORIZON_DAYS = 60


# Offices ---------------------------------------------------------------------------------


@transaction.atomic
def office_upsert(*, code: str, **fields: object) -> Office:
    """Create the office with this code, or bring its fields up to date (idempotent).

    Raises ValidationError for a bad value (unknown timezone or country, bad code...).
    """
    errors, values = {}, {}
    for name, value in fields.items():
        try:  # field by field, so that each error names its field
            values[name] = Office._meta.get_field(name).clean(value, None)
        except ValidationError as error:
            errors[name] = error.error_list
    if errors:
        raise ValidationError(errors)
    wanted = Office(code=code, **values)
    office = Office.objects.select_for_update().filter(code=code).first()
    if office is None:
        wanted.full_clean()
        wanted.save()
        return wanted
    wanted.full_clean(exclude=["code"])
    changed = [name for name in fields if getattr(office, name) != getattr(wanted, name)]
    for name in changed:
        setattr(office, name, getattr(wanted, name))
    if changed:
        office.save(update_fields=changed)
    return office


@transaction.atomic
def opening_hours_set(
    *,
    office: Office,
    weekdays: list[int],
    periods: list[tuple[time, time]],
    slot_minutes: int,
    counters: int,
) -> list[OpeningHours]:
    """Replace the opening hours of these weekdays by these periods (idempotent: rows that
    are already as wanted are left untouched)."""
    existing = OpeningHours.objects.filter(office=office, weekday__in=weekdays)
    wanted = {
        (day, start, end, slot_minutes, counters) for day in weekdays for start, end in periods
    }
    current = {(o.weekday, o.starts, o.ends, o.slot_minutes, o.counters) for o in existing}
    if current == wanted:
        return list(existing)
    existing.delete()
    rows = [
        OpeningHours(
            office=office,
            weekday=day,
            starts=start,
            ends=end,
            slot_minutes=slot_minutes,
            counters=counters,
        )
        for day in weekdays
        for start, end in periods
    ]
    for row in rows:
        row.full_clean()
    return OpeningHours.objects.bulk_create(rows)


# Slots -----------------------------------------------------------------------------------


def _local_start(day: date, at: time, tz) -> datetime | None:
    """The instant of a wall-clock time at an office, or None inside a DST gap."""
    local = datetime.combine(day, at, tzinfo=tz)
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # e.g. 02:30 on the night clocks go forward
    return local


def slots_generate(
    *, days: int = SLOT_HORIZON_DAYS, today: date | None = None, offices=None
) -> int:
    """Create the slots of the next `days` days from opening hours minus closures.

    Idempotent (unique office + start, conflicts ignored): run nightly by beat and by
    seed_demo. Returns the number of slots created. Existing slots are never changed: a
    change of opening hours applies to slots not generated yet.
    """
    offices = offices if offices is not None else Office.objects.filter(active=True)
    offices = list(offices.prefetch_related("opening_hours"))
    created = 0
    for office in offices:
        tz = office.timezone
        first = today or timezone.now().astimezone(tz).date()
        last = first + timedelta(days=days)
        closed = set()
        for closure in selectors.closures_between(office=office, date_from=first, date_to=last):
            day = max(closure.start_date, first)
            while day <= min(closure.end_date, last):
                closed.add(day)
                day += timedelta(days=1)
        hours = defaultdict(list)
        for period in office.opening_hours.all():
            hours[period.weekday].append(period)
        rows = []
        for offset in range(days + 1):
            day = first + timedelta(days=offset)
            if day in closed:
                continue
            for period in hours[day.weekday()]:
                step = timedelta(minutes=period.slot_minutes)
                moment = datetime.combine(day, period.starts)
                end = datetime.combine(day, period.ends)
                while moment + step <= end:
                    start = _local_start(day, moment.time(), tz)
                    if start is not None:
                        rows.append(
                            Slot(
                                office=office,
                                starts_at=start.astimezone(UTC),
                                ends_at=start.astimezone(UTC) + step,
                                capacity=period.counters,
                            )
                        )
                    moment += step
        before = Slot.objects.filter(office=office).count()
        Slot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        created += Slot.objects.filter(office=office).count() - before
    return created


# Closures --------------------------------------------------------------------------------


def _local_bounds(office: Office, first: date, last: date) -> tuple[datetime, datetime]:
    tz = office.timezone
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )


@transaction.atomic
def closure_create(
    *,
    office: Office | None,
    start_date: date,
    end_date: date,
    reason: str,
    reason_en: str = "",
    source: str = Closure.Source.ADMIN,
) -> tuple[Closure, int]:
    """Close an office (or all) on these days: its slots close and the appointments already
    booked in them become `displaced` (their seats are freed; the applicant is told)."""
    closure = Closure(
        office=office,
        start_date=start_date,
        end_date=end_date,
        reason=reason,
        reason_en=reason_en,
        source=source,
    )
    closure.full_clean()
    closure.save()
    return closure, closure_apply(closure=closure)


@transaction.atomic
def closure_apply(*, closure: Closure) -> int:
    lock_out_bookings()
    offices = [closure.office] if closure.office_id else list(Office.objects.all())
    displaced = 0
    for office in offices:
        lower, upper = _local_bounds(office, closure.start_date, closure.end_date)
        slots = Slot.objects.filter(office=office, starts_at__gte=lower, starts_at__lt=upper)
        slots.update(is_open=False)
        displaced += appointments_displace(slots=slots)
    return displaced


def lock_out_bookings() -> None:
    """Hold back every booking, move and cancellation until the caller's transaction ends:
    a closure or suspension being made must see them all, and they must see it. A booking
    statement waiting here takes its snapshot once the lock is released, so it sees the new
    closure or suspension and is refused; one that committed before is displaced. Rare
    administrative acts pay this, never the booking path."""
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE appointments_appointment IN SHARE ROW EXCLUSIVE MODE")


def appointments_displace(*, slots) -> int:
    """The booked appointments of these slots become `displaced` (their seats are freed by
    the trigger) and each applicant is told; returns how many. Their pending holds expire
    (services/verification.py): never confirmed, they were no appointment yet."""
    holds_release(slots=slots)
    victims = list(
        Appointment.objects.select_for_update()
        .filter(slot__in=slots, status=Appointment.Status.BOOKED)
        .order_by("pk")
    )
    if victims:
        with transitions.recorded(action=transitions.DISPLACE):
            Appointment.objects.filter(pk__in=[a.pk for a in victims]).update(
                status=Appointment.Status.DISPLACED, updated_at=timezone.now()
            )
        for appointment in victims:
            appointment.status = Appointment.Status.DISPLACED
            notifications.enqueue(
                appointment=appointment,
                kind="booking_displaced",
                key=notifications.appointment_key(
                    appointment.pk, "displaced", appointment.slot_id
                ),
            )
    return len(victims)


@transaction.atomic
def closure_delete(*, closure: Closure) -> None:
    """An administrator removes a closure: its slots reopen (closure_remove). A public
    holiday's is remembered as kept open (HolidayOverride), so that the holidays' sync does
    not close the day again (services/holidays.py)."""
    if closure.source == Closure.Source.HOLIDAY:
        HolidayOverride.objects.get_or_create(
            office_id=closure.office_id, date=closure.start_date, defaults={"name": closure.reason}
        )
    closure_remove(closure=closure)


@transaction.atomic
def closure_remove(*, closure: Closure) -> None:
    """Remove a closure and reopen its slots, except those inside another closure; the
    slots never made for its days (a public holiday is closed before they are) are made
    now, so the days are offered at once rather than after the nightly generation."""
    offices = [closure.office] if closure.office_id else list(Office.objects.all())
    first, last = closure.start_date, closure.end_date
    closure.delete()
    for office in offices:
        lower, upper = _local_bounds(office, first, last)
        still_closed = Q()
        for other in selectors.closures_between(office=office, date_from=first, date_to=last):
            other_lower, other_upper = _local_bounds(office, other.start_date, other.end_date)
            still_closed |= Q(starts_at__gte=other_lower, starts_at__lt=other_upper)
        slots = Slot.objects.filter(office=office, starts_at__gte=lower, starts_at__lt=upper)
        if still_closed:
            slots = slots.exclude(still_closed)
        slots.update(is_open=True)
    slots_generate(offices=Office.objects.filter(pk__in=[o.pk for o in offices], active=True))
