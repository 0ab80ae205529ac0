"""Is this slot bookable now? The one rule, in its two forms side by side.

A slot is bookable at the instant `now` when its office is active, the slot is open (no
closure), it starts after `now`, it has a seat left, and no suspension of its office is in
force either at `now` or at the slot's start. The seats held back after a reopening for the
appointments a suspension displaced (`Slot.reserved`) are not left for a new booking; they
are for those appointments (`displaced=True`). A suspension is in force at an office at a
moment when it began at or before that moment, has not reopened by then (no reopening date:
until further notice) and concerns every office (none listed) or lists that one.

- In SQL, the functions `epassport_suspensions_at` and `epassport_bookable_slots` (created
  by migration 0021_sql_functions; a change is a new migration): what the booking statement
  (services/book.sql) and every availability query (selectors, through the expressions
  `bookable` and `suspended`) use.
- In Python, `verdict()`: the same rule for one slot, naming the reason of a refusal
  (closed, suspended, past, full) so that the applicant is told why.

appointments/tests/test_eligibility.py runs both, and the booking statement, over every
combination of suspension scope and timing, slot state and office state, and proves that
they agree. Change one, change the other: that test fails until you do.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db import connections
from django.db.models import BooleanField, DateTimeField, F, Func, Value
from django.db.models.query import RawQuerySet

from core.models import Office

from .models import Slot, Suspension

# The rule in SQL, as ORM expressions ------------------------------------------------------


class _SQLRule(Func):
    """A call of one of the rule's SQL functions, as a boolean the ORM can filter on."""

    output_field = BooleanField()
    arity = 2
    sql: str  # formatted with the compiled arguments

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        return self.sql.format(*parts), params


class _HasBookableSlot(_SQLRule):
    sql = "EXISTS (SELECT 1 FROM epassport_bookable_slots({1}) b WHERE b.office_id = {0})"


class _Suspended(_SQLRule):
    sql = "EXISTS (SELECT 1 FROM epassport_suspensions_at({0}, {1}))"


def _office(office: str | F) -> F:
    return F(office) if isinstance(office, str) else office


def has_bookable_slot(*, now: datetime, office: str | F = "pk") -> _HasBookableSlot:
    """Whether an office (by default the queryset's own) has a slot bookable at `now`."""
    return _HasBookableSlot(_office(office), Value(now, output_field=DateTimeField()))


def suspended(*, at: datetime, office: str | F = "pk") -> _Suspended:
    """Whether a suspension is in force at an office (by default the queryset's own) at
    `at`."""
    return _Suspended(_office(office), Value(at, output_field=DateTimeField()))


def bookable_slots(
    *,
    now: datetime,
    office_id: int,
    starting: datetime,
    before: datetime | None = None,
    strictly_after: bool = False,
    limit: int | None = None,
) -> RawQuerySet:
    """The slots of an office bookable at `now` that start at `starting` or later (or only
    later, `strictly_after`) and before `before`, in time order, at most `limit`: one query,
    planned with the rule inlined."""
    sql = "SELECT s.* FROM epassport_bookable_slots(%s) s WHERE s.office_id = %s"
    sql += " AND s.starts_at > %s" if strictly_after else " AND s.starts_at >= %s"
    params = [now, office_id, starting]
    if before is not None:
        sql += " AND s.starts_at < %s"
        params.append(before)
    sql += " ORDER BY s.starts_at, s.id"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    return Slot.objects.raw(sql, params)


def bookable_days(
    *, now: datetime, office: Office, after: datetime, before: datetime
) -> list[tuple]:
    """(local date, number of slots) of an office's days with a slot bookable at `now`
    between `after` and `before`, in order: one query."""
    with connections[Slot.objects.db].cursor() as cursor:
        cursor.execute(
            "SELECT (s.starts_at AT TIME ZONE %s)::date, count(*)"
            " FROM epassport_bookable_slots(%s) s"
            " WHERE s.office_id = %s AND s.starts_at >= %s AND s.starts_at < %s"
            " GROUP BY 1 ORDER BY 1",
            [office.timezone.key, now, office.pk, after, before],
        )
        return cursor.fetchall()


def suspensions_at(*, office_id: int, at: datetime) -> RawQuerySet:
    """The suspensions in force at this office at `at`, the one reopening last first (one
    with no reopening date before all)."""
    return Suspension.objects.raw(
        "SELECT * FROM epassport_suspensions_at(%s, %s) ORDER BY reopens_at DESC NULLS FIRST, id",
        [office_id, at],
    )


# The rule in Python, naming the reason ----------------------------------------------------


class Reason(StrEnum):
    CLOSED = "closed"  # office inactive, or slot closed (a closure)
    SUSPENDED = "suspended"
    PAST = "past"
    FULL = "full"


@dataclass(frozen=True)
class Verdict:
    reason: Reason | None = None  # None: bookable
    suspension: Suspension | None = None  # the suspension in force, for SUSPENDED

    @property
    def bookable(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class ScopedSuspension:
    """A suspension with the ids of the offices it lists (empty: every office)."""

    suspension: Suspension
    office_ids: frozenset[int]

    def covers(self, *, office_id: int) -> bool:
        """Whether it concerns this office (every office when it lists none)."""
        return not self.office_ids or office_id in self.office_ids

    def in_force(self, *, office_id: int, at: datetime) -> bool:
        s = self.suspension
        return (
            s.starts_at <= at
            and (s.reopens_at is None or s.reopens_at > at)
            and self.covers(office_id=office_id)
        )


def suspensions_around(*, moments: list[datetime]) -> list[ScopedSuspension]:
    """The suspensions that may be in force at one of these moments, with the offices each
    lists, in one plain query (it runs for every refused booking of a rush); verdict()
    decides which are."""
    rows = Suspension.objects.raw(
        "SELECT s.*, ARRAY(SELECT l.office_id FROM appointments_suspension_offices l"
        " WHERE l.suspension_id = s.id) AS office_ids FROM appointments_suspension s"
        " WHERE s.starts_at <= %s AND (s.reopens_at IS NULL OR s.reopens_at > %s)",
        [max(moments), min(moments)],
    )
    return [ScopedSuspension(row, frozenset(row.office_ids)) for row in rows]


def verdict(
    *,
    slot: Slot,
    office: Office,
    suspensions: list[ScopedSuspension],
    now: datetime,
    displaced: bool = False,
) -> Verdict:
    """Whether `slot` (of `office`) is bookable at `now`, and if not, why, in the order an
    applicant is told: closed, suspended, past, full. `suspensions` may hold more than those
    in force (see suspensions_around); when several are, the one reopening last is named."""
    if not office.active or not slot.is_open:
        return Verdict(Reason.CLOSED)
    in_force = [
        scoped.suspension
        for scoped in suspensions
        if any(scoped.in_force(office_id=office.pk, at=at) for at in (now, slot.starts_at))
    ]
    if in_force:
        in_force.sort(
            key=lambda s: (
                s.reopens_at is not None,
                -s.reopens_at.timestamp() if s.reopens_at else 0,
                s.pk,
            )
        )
        return Verdict(Reason.SUSPENDED, suspension=in_force[0])
    if slot.starts_at <= now:
        return Verdict(Reason.PAST)
    if slot.booked + (0 if displaced else slot.reserved) >= slot.capacity:
        return Verdict(Reason.FULL)
    return Verdict()
