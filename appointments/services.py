"""Every write about offices, calendars, slots and bookings.

Capacity is protected by the database (see migration 0003): the trigger on appointments
keeps Slot.booked and the check constraint slot_within_capacity refuses an overbooking. The
services add the clear errors, the order of locks and the notifications.
"""

import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epassport.errors import NotFound

from . import notifications, selectors
from .errors import AlreadyBooked, BookingClosed, NotChangeable, SlotFull, SlotInPast
from .models import Appointment, Closure, Office, OpeningHours, Slot
from .validation import REFERENCE_ALPHABET

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
    *, office: Office | None, start_date: date, end_date: date, reason: str, reason_en: str = ""
) -> tuple[Closure, int]:
    """Close an office (or all) on these days: its slots close and the appointments already
    booked in them become `displaced` (their seats are freed; the applicant is told)."""
    closure = Closure(
        office=office,
        start_date=start_date,
        end_date=end_date,
        reason=reason,
        reason_en=reason_en,
    )
    closure.full_clean()
    closure.save()
    return closure, closure_apply(closure=closure)


@transaction.atomic
def closure_apply(*, closure: Closure) -> int:
    offices = [closure.office] if closure.office_id else list(Office.objects.all())
    displaced = 0
    for office in offices:
        lower, upper = _local_bounds(office, closure.start_date, closure.end_date)
        slots = Slot.objects.filter(office=office, starts_at__gte=lower, starts_at__lt=upper)
        slots.update(is_open=False)
        victims = list(
            Appointment.objects.select_for_update()
            .filter(slot__in=slots, status=Appointment.Status.BOOKED)
            .order_by("pk")
        )
        if victims:
            Appointment.objects.filter(pk__in=[a.pk for a in victims]).update(
                status=Appointment.Status.DISPLACED, updated_at=timezone.now()
            )
            for appointment in victims:
                appointment.status = Appointment.Status.DISPLACED
                notifications.enqueue(appointment=appointment, kind="booking_displaced")
            displaced += len(victims)
    return displaced


@transaction.atomic
def closure_delete(*, closure: Closure) -> None:
    """Remove a closure and reopen its slots, except those inside another closure."""
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


# Bookings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """What an applicant gives, already validated and normalised (see validation.py)."""

    surname: str
    given_names: str
    birth_date: date
    national_id: str
    email: str
    phone: str
    language: str = "fr"


def new_reference() -> str:
    """8 characters of an alphabet without look-alikes, from the OS's random source:
    25^8 ≈ 1.5e11 possibilities, so references can be neither counted nor guessed."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _constraint_of(error: IntegrityError) -> str:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", "") or ""


def _check_bookable(*, slot: Slot, now: datetime) -> None:
    office = slot.office
    if not office.active or not slot.is_open:
        raise BookingClosed(reopens_at=None)
    suspension = selectors.suspension_covering(office=office, moments=[now, slot.starts_at])
    if suspension is not None:
        raise BookingClosed(
            suspension.display_message,
            reopens_at=suspension.reopens_at.isoformat() if suspension.reopens_at else None,
        )
    if slot.starts_at <= now:
        raise SlotInPast()


def _slot_full(slot: Slot) -> SlotFull:
    return SlotFull(next_free=selectors.next_free_slots_cached(slot=slot))


def slot_for_booking(*, slot_id: int, office: Office | None = None) -> Slot:
    # The slot alone (its office must be active: checked here, exactly); the office's other
    # attributes come from the per-process cache of selectors.office_cached.
    query = Slot.objects.filter(office__active=True)
    if office is not None:
        query = query.filter(office=office)
    try:
        slot = query.get(pk=slot_id)
    except Slot.DoesNotExist:
        raise NotFound(_("Ce créneau n’existe pas.")) from None
    slot.office = office or selectors.office_cached(office_id=slot.office_id)
    return slot


# A booking is one statement: the appointment is inserted only if its slot is bookable at
# `now` (office active, slot open, in the future, not full in this snapshot, outside every
# suspension of the office, now and at the slot's time). The seat itself is taken by the
# trigger of migration 0003 in the same statement, which the check constraint
# slot_within_capacity refuses when two bookings race for the last seat. When no row comes
# back, _refusal() reads why. Written in SQL, and prepared once per database connection,
# because it runs for every request of a reopening rush: the ORM's create() and separate
# checks cost four times the CPU, and planning this statement costs more than running it.
_BOOK_PARAMS = [
    ("reference", "text"),
    ("surname", "text"),
    ("given_names", "text"),
    ("birth_date", "date"),
    ("national_id", "text"),
    ("email", "text"),
    ("phone", "text"),
    ("language", "text"),
    ("token_hash", "text"),
    ("created_at", "timestamptz"),
    ("slot", "bigint"),
    ("now", "timestamptz"),
]
_BOOK = """
    WITH booked AS (
        INSERT INTO appointments_appointment
            (reference, office_id, slot_id, status, surname, given_names, birth_date,
             national_id, email, phone, language, manage_token_hash, created_at, updated_at)
        SELECT $1, s.office_id, s.id, 'booked', $2, $3, $4, $5, $6, $7, $8, $9, $10, $10
        FROM appointments_slot s JOIN appointments_office o ON o.id = s.office_id
        WHERE s.id = $11 AND o.active AND s.is_open
          AND s.starts_at > $12 AND s.booked < s.capacity
          AND NOT EXISTS (
            SELECT 1 FROM appointments_suspension x
            WHERE (x.starts_at <= $12 AND (x.reopens_at IS NULL OR x.reopens_at > $12)
                   OR x.starts_at <= s.starts_at
                      AND (x.reopens_at IS NULL OR x.reopens_at > s.starts_at))
              AND (NOT EXISTS (SELECT 1 FROM appointments_suspension_offices l
                               WHERE l.suspension_id = x.id)
                   OR EXISTS (SELECT 1 FROM appointments_suspension_offices l
                              WHERE l.suspension_id = x.id AND l.office_id = s.office_id))
          )
        RETURNING id, slot_id
    )
    SELECT booked.id, s.id, s.office_id, s.starts_at, s.ends_at, s.capacity, s.booked, s.is_open
    FROM booked JOIN appointments_slot s ON s.id = booked.slot_id
"""
_BOOK_PREPARE = "PREPARE epassport_book ({}) AS {}".format(
    ", ".join(kind for _name, kind in _BOOK_PARAMS), _BOOK
)
_BOOK_EXECUTE = "EXECUTE epassport_book ({})".format(", ".join(["%s"] * len(_BOOK_PARAMS)))


def _execute_book(cursor, params: dict) -> tuple | None:
    # A prepared statement lives as long as its database session (a rollback keeps it), so
    # it is prepared once per connection: remember which connection it was prepared on.
    raw = connection.connection
    if getattr(connection, "_epassport_book_prepared_on", None) is not raw:
        cursor.execute(_BOOK_PREPARE)
        connection._epassport_book_prepared_on = raw
    cursor.execute(_BOOK_EXECUTE, [params[name] for name, _kind in _BOOK_PARAMS])
    return cursor.fetchone()


def _refusal(*, slot_id: int, now: datetime) -> Exception | None:
    """Why a slot could not be booked at `now` (None: it can be, after all)."""
    slot = Slot.objects.filter(pk=slot_id).first()
    if slot is None:
        return NotFound(_("Ce créneau n’existe pas."))
    slot.office = selectors.office_cached(office_id=slot.office_id)
    try:
        _check_bookable(slot=slot, now=now)
    except (BookingClosed, SlotInPast) as error:
        return error
    if slot.booked >= slot.capacity:
        return _slot_full(slot)
    return None


def booking_create(
    *, slot: Slot | int, applicant: Applicant, now: datetime | None = None
) -> tuple[Appointment, str]:
    """Book a seat of `slot` (a Slot or its id) for the applicant; returns the appointment
    and its manage token (shown once: only its hash is stored). Raises NotFound (no such
    slot), SlotFull, AlreadyBooked, BookingClosed or SlotInPast."""
    now = now or timezone.now()
    slot_id = slot if isinstance(slot, int) else slot.pk
    token = secrets.token_urlsafe(24)
    for _attempt in range(5):
        params = {
            "reference": new_reference(),
            "slot": slot_id,
            "now": now,
            "created_at": timezone.now(),  # the clock, as auto_now_add would read it
            "token_hash": hash_token(token),
            **asdict(applicant),
        }
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                row = _execute_book(cursor, params)
                if row is not None:
                    appointment = _booked_appointment(row, params)
                    notifications.enqueue(
                        appointment=appointment,
                        kind="booking_confirmed",
                        payload={"manage_token": token},
                    )
        except IntegrityError as error:
            constraint = _constraint_of(error)
            if constraint == "slot_within_capacity":  # lost the race for the last seat
                raise _slot_full(Slot.objects.get(pk=slot_id)) from None
            if constraint == "appointment_one_active_per_identity":
                raise AlreadyBooked() from None
            if "reference" in constraint:
                continue  # astronomically rare: draw another reference
            raise
        if row is not None:
            return appointment, token
        refusal = _refusal(slot_id=slot_id, now=now)
        if refusal is not None:
            raise refusal
        # Full in the statement's snapshot, free a moment later: try again.
    raise SlotFull()


def _booked_appointment(row: tuple, params: dict) -> Appointment:
    appointment_id, slot_id, office_id, starts_at, ends_at, capacity, booked, is_open = row
    slot = Slot(
        id=slot_id,
        office_id=office_id,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        booked=booked,
        is_open=is_open,
    )
    slot._state.adding = False
    slot.office = selectors.office_cached(office_id=office_id)
    appointment = Appointment(
        id=appointment_id,
        reference=params["reference"],
        office_id=office_id,
        slot=slot,
        status=Appointment.Status.BOOKED,
        surname=params["surname"],
        given_names=params["given_names"],
        birth_date=params["birth_date"],
        national_id=params["national_id"],
        email=params["email"],
        phone=params["phone"],
        language=params["language"],
        manage_token_hash=params["token_hash"],
        created_at=params["created_at"],
        updated_at=params["created_at"],
    )
    appointment._state.adding = False
    appointment._state.db = slot._state.db = connection.alias
    appointment.office = slot.office
    return appointment


def booking_for_token(*, reference: str, token: str) -> Appointment:
    """The appointment whose manage token this is; NotFound otherwise (same answer for a
    wrong reference and a wrong token, in constant time)."""
    appointment = (
        Appointment.objects.select_related("slot", "office").filter(reference=reference).first()
    )
    expected = appointment.manage_token_hash if appointment else "0" * 64
    if not hmac.compare_digest(expected, hash_token(token or "")) or appointment is None:
        raise NotFound(_("Rendez-vous introuvable."))
    return appointment


def _lock_changeable(*, appointment: Appointment, now: datetime) -> Appointment:
    """Lock the appointment's row (of=self: not the joined slot, whose lock is taken later
    and in a fixed order) and check that the applicant may still change it."""
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot")
        .get(pk=appointment.pk)
    )
    if locked.status != Appointment.Status.BOOKED or locked.slot.starts_at <= now:
        raise NotChangeable()
    return locked


@transaction.atomic
def booking_cancel(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """Cancel a booked appointment; its seat is freed at once (same transaction)."""
    now = now or timezone.now()
    locked = _lock_changeable(appointment=appointment, now=now)
    locked.status = Appointment.Status.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    notifications.enqueue(appointment=locked, kind="booking_cancelled")
    return locked


@transaction.atomic
def booking_reschedule(
    *, appointment: Appointment, slot: Slot, now: datetime | None = None
) -> Appointment:
    """Move a booked appointment to another slot of the same office, atomically: the old
    seat is freed and the new one taken in one statement, never both nor neither."""
    now = now or timezone.now()
    locked = _lock_changeable(appointment=appointment, now=now)
    if slot.office_id != locked.office_id:
        raise NotFound(_("Ce créneau n’existe pas."))
    if slot.pk == locked.slot_id:
        return locked
    _check_bookable(slot=slot, now=now)
    # Only the appointment row is locked above (of=self: not the joined slot). Lock both
    # slots now, in a fixed order (by id), so two reschedules crossing each other's
    # slots wait for one another instead of deadlocking.
    slots = {
        s.pk: s
        for s in Slot.objects.select_for_update()
        .filter(pk__in=[locked.slot_id, slot.pk])
        .order_by("pk")
    }
    if slots[slot.pk].booked >= slots[slot.pk].capacity:
        raise _slot_full(slot)
    locked.slot = slots[slot.pk]
    try:
        with transaction.atomic():
            locked.save(update_fields=["slot", "updated_at"])
    except IntegrityError as error:
        if _constraint_of(error) == "slot_within_capacity":
            raise _slot_full(slot) from None
        raise
    notifications.enqueue(appointment=locked, kind="booking_rescheduled")
    return locked


# Staff -----------------------------------------------------------------------------------


@transaction.atomic
def staff_upsert(*, username: str, password: str, role: str, office_codes: list[str]):
    """Create or update a member of staff with exactly these memberships (idempotent).

    `admin` is the ministry's role for every office (no office may be given); every other
    role needs at least one office. Raises ValidationError for an unknown role or office."""
    from django.contrib.auth.models import User

    from .models import Membership

    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Rôle inconnu : %(role)s.") % {"role": role}})
    offices = list(Office.objects.filter(code__in=office_codes))
    missing = sorted(set(office_codes) - {office.code for office in offices})
    if missing:
        raise ValidationError(
            {"office": _("Bureau inconnu : %(codes)s.") % {"codes": ", ".join(missing)}}
        )
    if (role == Membership.Role.ADMIN) == bool(offices):
        raise ValidationError(
            {"office": _("Un administrateur n’a pas de bureau ; les autres rôles en ont un.")}
        )
    user, _created = User.objects.get_or_create(username=username)
    if not user.check_password(password) or not user.is_active:
        user.set_password(password)
        user.is_active = True
    user.is_staff = role == Membership.Role.ADMIN  # the Django admin is for the ministry only
    user.save()
    wanted = {(office.pk, role) for office in offices} or {(None, role)}
    current = {(m.office_id, m.role): m for m in Membership.objects.filter(user=user)}
    for key, membership in current.items():
        if key not in wanted:
            membership.delete()
    Membership.objects.bulk_create(
        [
            Membership(user=user, office_id=office_id, role=r)
            for office_id, r in wanted - set(current)
        ]
    )
    return user


# Counter work at the office -------------------------------------------------------------


def staff_may_work_at(*, user, office_id: int) -> bool:
    """Whether a member of staff works at the counter of this office (agent, supervisor)
    or is an administrator."""
    from .models import Membership

    return Membership.objects.filter(
        Q(role=Membership.Role.ADMIN)
        | Q(office_id=office_id, role__in=[Membership.Role.AGENT, Membership.Role.SUPERVISOR]),
        user=user,
    ).exists()


def appointment_lock_for_counter(*, appointment: Appointment | int, by) -> Appointment:
    """Lock an appointment for counter work by `by`; NotFound if it is not of their office."""
    appointment_id = appointment if isinstance(appointment, int) else appointment.pk
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot", "office")
        .filter(pk=appointment_id)
        .first()
    )
    if locked is None or not staff_may_work_at(user=by, office_id=locked.office_id):
        raise NotFound(_("Rendez-vous introuvable."))
    return locked


@transaction.atomic
def appointment_check_in(*, appointment: Appointment | int, by) -> Appointment:
    """The applicant is at the counter (idempotent: checking in twice changes nothing)."""
    locked = appointment_lock_for_counter(appointment=appointment, by=by)
    if locked.status == Appointment.Status.CHECKED_IN:
        return locked
    if locked.status != Appointment.Status.BOOKED:
        raise NotChangeable()
    locked.status = Appointment.Status.CHECKED_IN
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def appointment_no_show(
    *, appointment: Appointment | int, by, now: datetime | None = None
) -> Appointment:
    """The applicant did not come: only once the appointment's time has begun."""
    now = now or timezone.now()
    locked = appointment_lock_for_counter(appointment=appointment, by=by)
    if locked.status == Appointment.Status.NO_SHOW:
        return locked
    if locked.status != Appointment.Status.BOOKED or locked.slot.starts_at > now:
        raise NotChangeable()
    locked.status = Appointment.Status.NO_SHOW
    locked.save(update_fields=["status", "updated_at"])
    return locked
