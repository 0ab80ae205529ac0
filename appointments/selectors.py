"""Read queries about offices, availability and booking that more than one caller needs."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import Closure, Office, Slot, Suspension


def office_list_public() -> QuerySet[Office]:
    """Offices an applicant may see: the active ones, centres first, in a stable order."""
    return Office.objects.filter(active=True).order_by("kind", "city", "name")


def suspension_at(*, office: Office, at: datetime) -> Suspension | None:
    """The suspension in force at this office at `at`, if any (the latest reopening wins)."""
    return suspension_covering(office=office, moments=[at])


# Suspensions of one office in force at some moment of [first, last]: one plain query, on
# the booking path of every request in a rush, hence written in SQL.
_SUSPENSIONS_BETWEEN = """
    SELECT s.* FROM appointments_suspension s
    WHERE s.starts_at <= %(last)s
      AND (s.reopens_at IS NULL OR s.reopens_at > %(first)s)
      AND (
        NOT EXISTS (
          SELECT 1 FROM appointments_suspension_offices l WHERE l.suspension_id = s.id
        )
        OR EXISTS (
          SELECT 1 FROM appointments_suspension_offices l
          WHERE l.suspension_id = s.id AND l.office_id = %(office)s
        )
      )
    ORDER BY s.reopens_at DESC NULLS FIRST
"""


def suspension_covering(*, office: Office, moments: list[datetime]) -> Suspension | None:
    """The suspension of this office in force at any of these moments, if any (the one
    reopening last wins). Booking checks both now and the slot's time in one query."""
    first, last = min(moments), max(moments)
    candidates = Suspension.objects.raw(
        _SUSPENSIONS_BETWEEN, {"first": first, "last": last, "office": office.pk}
    )
    for suspension in candidates:
        for moment in moments:
            if suspension.starts_at <= moment and (
                suspension.reopens_at is None or suspension.reopens_at > moment
            ):
                return suspension
    return None


def _free_slot_filter(*, now: datetime) -> Q:
    return Q(is_open=True, booked__lt=F("capacity"), starts_at__gt=now)


def _not_suspended(office_ref) -> Exists:
    """Slots outside every suspension window that applies to their office."""
    links = Suspension.offices.through.objects
    return ~Exists(
        Suspension.objects.filter(
            Q(reopens_at__isnull=True) | Q(reopens_at__gt=OuterRef("starts_at")),
            starts_at__lte=OuterRef("starts_at"),
        ).filter(
            ~Exists(links.filter(suspension=OuterRef("pk")))
            | Exists(links.filter(suspension=OuterRef("pk"), office=office_ref))
        )
    )


def free_slots(
    *, office: Office, date_from: date, date_to: date, now: datetime | None = None
) -> QuerySet[Slot]:
    """Free slots of an office between two local dates (inclusive): one query, whatever the
    range. A slot is free when it is open, not full, in the future and outside every
    suspension of the office."""
    now = now or timezone.now()
    tz = office.timezone
    lower = datetime.combine(date_from, time.min, tzinfo=tz)
    upper = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
    return (
        Slot.objects.filter(office=office, starts_at__gte=lower, starts_at__lt=upper)
        .filter(_free_slot_filter(now=now))
        .filter(_not_suspended(office.pk))
        .order_by("starts_at")
    )


# Per-process caches for the booking path of a rush. Offices change rarely: an edit reaches
# every web process within OFFICE_CACHE_SECONDS (whether an office is active is still read
# exactly, with the slot). The next free times offered with a `slot_full` answer are
# suggestions, booked afresh if chosen: they may be NEXT_FREE_CACHE_SECONDS old.
OFFICE_CACHE_SECONDS = 30
NEXT_FREE_CACHE_SECONDS = 2
_office_cache: dict[int, tuple[float, Office]] = {}
_next_free_cache: dict[int, tuple[float, list[Slot]]] = {}


def office_cached(*, office_id: int) -> Office:
    now = monotonic()
    hit = _office_cache.get(office_id)
    if hit is None or hit[0] < now:
        hit = (now + OFFICE_CACHE_SECONDS, Office.objects.get(pk=office_id))
        _office_cache[office_id] = hit
    return hit[1]


def next_free_slots_cached(*, slot: Slot) -> list[Slot]:
    """next_free_slots after a full slot, shared by the requests of one process for a
    moment: a hot slot in a rush gets many `slot_full` answers in the same second."""
    now = monotonic()
    hit = _next_free_cache.get(slot.pk)
    if hit is None or hit[0] < now:
        if len(_next_free_cache) > 10_000:
            _next_free_cache.clear()
        hit = (
            now + NEXT_FREE_CACHE_SECONDS,
            next_free_slots(office=slot.office, after=slot.starts_at),
        )
        _next_free_cache[slot.pk] = hit
    return hit[1]


def next_free_slots(*, office: Office, after: datetime, limit: int = 5) -> list[Slot]:
    """The first free slots of an office after a moment: offered when a slot is full."""
    now = max(after, timezone.now())
    return list(
        Slot.objects.filter(office=office)
        .filter(_free_slot_filter(now=now))
        .filter(_not_suspended(office.pk))
        .order_by("starts_at")[:limit]
    )


def offices_with_free_slots(*, now: datetime | None = None) -> QuerySet[Office]:
    """Active offices annotated with `has_free_slot` and `suspended_now`, in one query."""
    now = now or timezone.now()
    free = Slot.objects.filter(office=OuterRef("pk")).filter(_free_slot_filter(now=now))
    free = free.filter(_not_suspended(OuterRef(OuterRef("office_id"))))
    links = Suspension.offices.through.objects
    suspended = Suspension.objects.filter(
        Q(reopens_at__isnull=True) | Q(reopens_at__gt=now), starts_at__lte=now
    ).filter(
        ~Exists(links.filter(suspension=OuterRef("pk")))
        | Exists(links.filter(suspension=OuterRef("pk"), office=OuterRef(OuterRef("pk"))))
    )
    return office_list_public().annotate(
        has_free_slot=Exists(free), suspended_now=Exists(suspended)
    )


def office_booking_open(*, office: Office, now: datetime | None = None) -> bool:
    """Whether Premium booking is open at this office right now: computed, never stored, so
    that it is right the moment a suspension ends."""
    now = now or timezone.now()
    return office.active and suspension_at(office=office, at=now) is None


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
    """An office as the home page shows it: its local time now and whether booking is open."""

    office: Office
    local_time: datetime
    offset_label: str
    booking_open: bool


def offices_now(*, now: datetime | None = None) -> dict[str, list[OfficeNow]]:
    """Active offices grouped by kind, each with its local time; one query in all."""
    now = now or timezone.now()
    groups: dict[str, list[OfficeNow]] = {kind: [] for kind in Office.Kind.values}
    for office in offices_with_free_slots(now=now):
        local = now.astimezone(office.timezone)
        groups[office.kind].append(
            OfficeNow(
                office=office,
                local_time=local,
                offset_label=utc_offset_label(local),
                booking_open=office.has_free_slot and not office.suspended_now,
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
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    rows = (
        free_slots(office=office, date_from=date_from, date_to=date_to, now=now)
        .annotate(day=TruncDate("starts_at", tzinfo=office.timezone))
        .order_by()
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    return [FreeDay(day=row["day"], free_slots=row["n"]) for row in rows]
