"""Read queries about offices, availability and booking that more than one caller needs."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic

from django.db.models import Q, QuerySet
from django.db.models.query import RawQuerySet
from django.utils import timezone

from core.models import Office

from . import eligibility
from .models import Closure, Slot, Suspension


def office_list_public() -> QuerySet[Office]:
    """Offices an applicant may see: the active ones, centres first, in a stable order."""
    return Office.objects.filter(active=True).order_by("kind", "city", "name")


def suspension_at(*, office: Office, at: datetime) -> Suspension | None:
    """The suspension in force at this office at `at`, if any (the one reopening last)."""
    return next(iter(eligibility.suspensions_at(office_id=office.pk, at=at)), None)


def _local_bounds(office: Office, date_from: date, date_to: date) -> tuple[datetime, datetime]:
    tz = office.timezone
    return (
        datetime.combine(date_from, time.min, tzinfo=tz),
        datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz),
    )


def free_slots(
    *, office: Office, date_from: date, date_to: date, now: datetime | None = None
) -> RawQuerySet:
    """Free slots of an office between two local dates (inclusive), in time order: one
    query, whatever the range. A slot is free when it is bookable now (eligibility.py)."""
    lower, upper = _local_bounds(office, date_from, date_to)
    return eligibility.bookable_slots(
        now=now or timezone.now(), office_id=office.pk, starting=lower, before=upper
    )


# Per-process caches for the booking path of a rush. Offices change rarely: an edit reaches
# every web process within OFFICE_CACHE_SECONDS (whether an office is active is still read
# exactly, with the slot). The next free times offered with a `slot_full` answer are
# suggestions, booked afresh if chosen: they may be NEXT_FREE_CACHE_SECONDS old.
OFFICE_CACHE_SECONDS = 30
NEXT_FREE_CACHE_SECONDS = 2
NEXT_FREE_POOL = 20
NEXT_FREE_OFFERED = 5
# Which free slots a refusal offers: spreading, not a secret (the list is public anyway).
_draw = random.Random()  # nosec B311
_office_cache: dict[int, tuple[float, Office]] = {}
_next_free_cache: dict[int, tuple[float, list[Slot]]] = {}
_public_office_cache: dict[str, tuple[float, Office]] = {}


def office_cached(*, office_id: int) -> Office:
    now = monotonic()
    hit = _office_cache.get(office_id)
    if hit is None or hit[0] < now:
        hit = (now + OFFICE_CACHE_SECONDS, Office.objects.get(pk=office_id))
        _office_cache[office_id] = hit
    return hit[1]


def forget_kept() -> None:
    """Drop what this process keeps (tests: each starts as a fresh process would)."""
    for kept in (_office_cache, _next_free_cache, _public_office_cache):
        kept.clear()


def public_office_cached(*, code: str) -> Office | None:
    """The active office with this code (None: none), kept by each process like
    office_cached: at a reopening everyone asks for the office's free slots and waiting room
    at once. An office made inactive meanwhile offers no slot (bookable_slots reads it
    exactly) and cannot be booked (slot_for_booking)."""
    now = monotonic()
    hit = _public_office_cache.get(code)
    if hit is None or hit[0] < now:
        office = office_list_public().filter(code=code).first()
        if office is None:
            return None  # not kept: codes are the client's to invent
        if len(_public_office_cache) > 1_000:
            _public_office_cache.clear()
        hit = (now + OFFICE_CACHE_SECONDS, office)
        _public_office_cache[code] = hit
    return hit[1]


def next_free_slots_cached(*, slot: Slot) -> list[Slot]:
    """NEXT_FREE_OFFERED free slots after a full slot, drawn at random among its next
    NEXT_FREE_POOL free ones (in time order): in a rush everyone refused for one slot is
    offered the same few otherwise, and all of them are refused again there, one seat aside.
    The pool is shared by the requests of one process for a moment: a hot slot gets many
    `slot_full` answers in the same second."""
    now = monotonic()
    hit = _next_free_cache.get(slot.pk)
    if hit is None or hit[0] < now:
        if len(_next_free_cache) > 10_000:
            _next_free_cache.clear()
        pool = next_free_slots(office=slot.office, after=slot.starts_at, limit=NEXT_FREE_POOL)
        hit = (now + NEXT_FREE_CACHE_SECONDS, pool)
        _next_free_cache[slot.pk] = hit
    pool = hit[1]
    if len(pool) <= NEXT_FREE_OFFERED:
        return pool
    drawn = sorted(_draw.sample(range(len(pool)), NEXT_FREE_OFFERED))
    return [pool[index] for index in drawn]


def next_free_slots(
    *, office: Office, after: datetime, limit: int = NEXT_FREE_OFFERED
) -> list[Slot]:
    """The first free slots of an office after a moment: offered when a slot is full."""
    return list(
        eligibility.bookable_slots(
            now=timezone.now(),
            office_id=office.pk,
            starting=after,
            strictly_after=True,
            limit=limit,
        )
    )


def offices_with_free_slots(*, now: datetime | None = None) -> QuerySet[Office]:
    """Active offices annotated with `has_free_slot` and `suspended_now`, in one query."""
    now = now or timezone.now()
    return office_list_public().annotate(
        has_free_slot=eligibility.has_bookable_slot(now=now),
        suspended_now=eligibility.suspended(at=now),
    )


def closures_between(*, office: Office, date_from: date, date_to: date) -> QuerySet[Closure]:
    return Closure.objects.filter(
        Q(office=office) | Q(office__isnull=True),
        start_date__lte=date_to,
        end_date__gte=date_from,
    )


def utc_offset_label(moment: datetime) -> str:
    """'UTC', 'UTC+1', 'UTC-5', 'UTC+5:30' for a timezone-aware datetime."""
    offset = moment.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@dataclass(frozen=True)
class OfficeNow:
    """An office as the home and status pages show it: its local time now, whether booking
    is open, and the suspension in force there now, if any, with its reopening."""

    office: Office
    local_time: datetime
    offset_label: str
    booking_open: bool
    suspension: Suspension | None = None  # shown with its message and reopening
    reopens_offset_label: str = ""  # of the planned reopening, in the office's timezone


def shown_suspension(suspensions: list[Suspension]) -> Suspension | None:
    """Of the suspensions in force at an office, the one suspension_at names: with no
    reopening date first, else the one reopening last (the lowest id on a tie)."""
    return min(
        suspensions,
        key=lambda s: (
            s.reopens_at is not None,
            -s.reopens_at.timestamp() if s.reopens_at else 0,
            s.pk,
        ),
        default=None,
    )


def offices_now(*, now: datetime | None = None) -> dict[str, list[OfficeNow]]:
    """Active offices grouped by kind, each with its local time and the suspension in force
    there now: two queries in all, whatever the number of offices and suspensions."""
    now = now or timezone.now()
    groups: dict[str, list[OfficeNow]] = {kind: [] for kind in Office.Kind.values}
    in_force = eligibility.suspensions_around(moments=[now])
    for office in offices_with_free_slots(now=now):
        local = now.astimezone(office.timezone)
        suspension = shown_suspension(
            [s.suspension for s in in_force if s.in_force(office_id=office.pk, at=now)]
        )
        reopens = suspension.reopens_at if suspension else None
        groups[office.kind].append(
            OfficeNow(
                office=office,
                local_time=local,
                offset_label=utc_offset_label(local),
                booking_open=office.has_free_slot and not office.suspended_now,
                suspension=suspension,
                reopens_offset_label=(
                    utc_offset_label(reopens.astimezone(office.timezone)) if reopens else ""
                ),
            )
        )
    return groups


@dataclass(frozen=True)
class FreeDay:
    day: date
    free_slots: int


def free_days(
    *, office: Office, date_from: date, date_to: date, now: datetime | None = None
) -> list[FreeDay]:
    """Local days with at least one free slot and how many: one aggregate query."""
    lower, upper = _local_bounds(office, date_from, date_to)
    rows = eligibility.bookable_days(
        now=now or timezone.now(), office=office, after=lower, before=upper
    )
    return [FreeDay(day=day, free_slots=count) for day, count in rows]


def office_groups(by_kind: dict) -> list[dict]:
    """Per-kind items (offices, or figures about them) as the public pages group them:
    centres in Mali first, then the missions abroad, each with its title."""
    from django.utils.translation import gettext as _

    return [
        {
            "key": "centres",
            "title": _("Centres de production au Mali"),
            "items": by_kind[Office.Kind.CENTRE],
        },
        {
            "key": "missions",
            "title": _("Ambassades et consulats à l’étranger"),
            "items": by_kind[Office.Kind.MISSION],
        },
    ]
