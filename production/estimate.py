"""The estimated ready date of a passport file, shown to its applicant (/suivi/).

How it is made, in one sentence (the tracking page says it too): the file's place in its
centre's production queue, in the dispatcher's own order, divided by the centre's daily
capacity gives the production day of its batch, counting only the days the centre works
(opening hours, no closure, no suspension); the passport is ready PRODUCTION_WORKING_DAYS
working days later; for a mission add the next pouch day and the pouch's travel time,
measured over the mission's recent shipments (POUCH_TRAVEL_DAYS until there are enough).

Everything but the file itself comes from a `Schedule`: every office's calendar (the
working days of production/workdays.py, which the backlog dashboard counts too), every
centre's queue cut into daily batches, every mission's pouch. It is read in a few
set-based queries and kept in each process for TRACKING_SCHEDULE_TTL seconds, so that a
lookup costs the same queries whatever the size of the queue.
"""

import bisect
import statistics
import threading
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from math import ceil
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core import sql
from core.models import Office

from .models import QUEUE_ORDER, WAITING, Centre, FileStatus, PassportFile, ProductionBatch
from .workdays import OfficeCalendar, ProductionDays, Unknown, office_calendars

QueueKey = tuple[date, datetime, int]  # the dispatcher's order: due date, enrolment, id


@dataclass
class CentreQueue:
    """A centre's queue cut into batches: `starts[i]` is the first file of the i-th batch
    from today (today's batch, which may still take `room` files, is batch 0)."""

    office_id: int
    capacity: int
    today: date
    room: int
    starts: list[QueueKey]

    def batch_index(self, key: QueueKey) -> int:
        """Which batch a file with this key falls into: 0 today, n the n-th next one."""
        index = bisect.bisect_right(self.starts, key)
        return index if self.room else max(index, 1)


@dataclass
class Pouch:
    weekdays: frozenset[int]
    travel_days: int
    measured: bool  # False: the setting, too few shipments yet


@dataclass
class Schedule:
    now: datetime
    offices: dict[int, Office]  # the active ones, by id
    calendars: dict[int, OfficeCalendar]  # by office id
    queues: dict[int, CentreQueue]  # by centre id
    pouches: dict[int, Pouch]  # by the mission's office id


# Reading the schedule --------------------------------------------------------------------


# The first file of each batch from today on (sql/batch_starts.sql), by its key in the
# queue's order.
_BATCH_STARTS = sql.load(
    Path(__file__).with_name("sql") / "batch_starts.sql",
    FileStatus=FileStatus,
    queue_f=sql.columns("f", QUEUE_ORDER),
    queue_q=sql.columns("q", QUEUE_ORDER),
)


def queue_key(file: PassportFile) -> tuple:
    """A file's place in its centre's queue, comparable with the keys of _BATCH_STARTS."""
    return tuple(getattr(file, name) for name in QUEUE_ORDER)


def _queues(now: datetime, calendars: dict[int, OfficeCalendar]) -> dict[int, CentreQueue]:
    queues = {}
    for centre in Centre.objects.filter(office__active=True):
        calendar = calendars[centre.office_id]
        today = now.astimezone(calendar.tz).date()
        works_today = calendar.works_today(now)
        queues[centre.pk] = CentreQueue(
            office_id=centre.office_id,
            capacity=centre.daily_capacity,
            today=today,
            room=centre.daily_capacity if works_today else 0,
            starts=[],
        )
    if not queues:
        return queues
    days = {queue.today for queue in queues.values()}
    for batch in ProductionBatch.objects.filter(centre__in=queues, day__in=days):
        queue = queues[batch.centre_id]
        if batch.day == queue.today and queue.room:
            queue.room = max(queue.room - batch.size, 0)
    ids = list(queues)
    params = {
        "now": now,
        "centres": ids,
        "rooms": [queues[pk].room for pk in ids],
        "caps": [queues[pk].capacity for pk in ids],
    }
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_STARTS.sql, params)
        for centre_id, *key in cursor.fetchall():
            queues[centre_id].starts.append(tuple(key))
    return queues


def _pouches(now: datetime) -> dict[int, Pouch]:
    """Each mission's pouch days and travel time: the median, in whole days, of its last
    shipments' travel (through Office's reverse relations: production does not import
    consulates)."""
    samples = settings.POUCH_TRAVEL_SAMPLES
    travels: dict[int, list[float]] = {}
    shipments = (
        Office.objects.filter(
            kind=Office.Kind.MISSION,
            mission__shipments__received_at__gte=now - timedelta(days=180),
        )
        .order_by("pk", "-mission__shipments__received_at")
        .values_list("pk", "mission__shipments__sent_at", "mission__shipments__received_at")
    )
    for pk, sent_at, received_at in shipments:
        days = travels.setdefault(pk, [])
        if len(days) < samples:
            days.append((received_at - sent_at).total_seconds() / 86400)
    pouches = {}
    missions = Office.objects.filter(kind=Office.Kind.MISSION, mission__isnull=False)
    for pk, weekdays in missions.values_list("pk", "mission__pouch_weekdays"):
        measured = travels.get(pk, [])
        if len(measured) >= settings.POUCH_TRAVEL_MIN_SAMPLES:
            pouches[pk] = Pouch(frozenset(weekdays), ceil(statistics.median(measured)), True)
        else:
            pouches[pk] = Pouch(frozenset(weekdays), settings.POUCH_TRAVEL_DAYS, False)
    return pouches


def schedule_read(*, now: datetime | None = None) -> Schedule:
    """Read the whole schedule now (a handful of set-based queries)."""
    now = now or timezone.now()
    offices = {o.pk: o for o in Office.objects.filter(active=True)}
    calendars = office_calendars(now, offices)
    return Schedule(
        now=now,
        offices=offices,
        calendars=calendars,
        queues=_queues(now, calendars),
        pouches=_pouches(now),
    )


_cached: tuple[float, Schedule] | None = None
_lock = threading.Lock()


def schedule() -> Schedule:
    """The schedule as read at most TRACKING_SCHEDULE_TTL seconds ago by this process."""
    global _cached
    ttl = settings.TRACKING_SCHEDULE_TTL
    with _lock:
        if _cached is None or clock.monotonic() - _cached[0] >= ttl:
            _cached = (clock.monotonic(), schedule_read())
        return _cached[1]


def schedule_forget() -> None:
    global _cached
    with _lock:
        _cached = None


# The estimate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    ready_on: date | None
    batch_day: date | None = None  # when it is taken into production, if still waiting
    pouch_travel_days: int | None = None  # for a mission's file


def _local_today(calendar: OfficeCalendar, now: datetime) -> date:
    return now.astimezone(calendar.tz).date()


def _waiting_batch_day(file: PassportFile, plan: Schedule) -> date:
    """The day its batch is taken: its place in the queue cut into daily batches, on the
    centre's working days, not while a suspension is in force at its own office (a file is
    held then, or left in the queue by the dispatcher)."""
    queue = plan.queues.get(file.centre_id)
    own = plan.calendars.get(file.office_id)
    if queue is None or own is None:
        raise Unknown()
    days = ProductionDays(centre=plan.calendars[queue.office_id], office=own, now=plan.now)
    return days.batch_day(queue.batch_index(queue_key(file)))


def batch_day_of(file: PassportFile) -> date | None:
    """The day of the file's production batch: `batch_day` when the caller read it with the
    file (production.tracking), else its batch's."""
    day = getattr(file, "batch_day", None)
    if day is None and file.batch_id:
        day = file.batch.day
    return day


def _ready_at_centre(file: PassportFile, plan: Schedule) -> tuple[date, date | None]:
    queue = plan.queues.get(file.centre_id)
    if queue is None:
        raise Unknown()
    calendar = plan.calendars[queue.office_id]
    today = queue.today
    batch_day = None
    if file.status in WAITING:
        batch_day = _waiting_batch_day(file, plan)
        ready = calendar.working_day(batch_day, nth=settings.PRODUCTION_WORKING_DAYS)
    elif file.status == FileStatus.IN_PRODUCTION:
        start = batch_day_of(file) or today
        ready = calendar.working_day(start, nth=settings.PRODUCTION_WORKING_DAYS)
        ready = max(ready, calendar.working_day(today))
    else:  # quality check: its last step
        ready = calendar.working_day(today + timedelta(days=1))
    return ready, batch_day


def estimate(
    file: PassportFile, plan: Schedule, *, shipped_at: datetime | None = None
) -> Estimate:
    """The date the passport of `file` can be collected at its office, with how it was
    reached; `ready_on` None when no honest date can be given. `shipped_at` is the time
    its pouch left, for a mission's file in transit."""
    if file.status in (FileStatus.READY, FileStatus.DELIVERED, FileStatus.REJECTED):
        return Estimate(None)
    if file.status == FileStatus.ON_HOLD and not file.held_by_service:
        return Estimate(None)  # held by staff, for a reason of their own
    try:
        office = plan.calendars.get(file.office_id)
        if office is None:
            raise Unknown()
        pouch = plan.pouches.get(file.office_id)
        if file.status == FileStatus.IN_TRANSIT:
            if pouch is None or shipped_at is None:
                raise Unknown()
            arrival = shipped_at.astimezone(office.tz).date() + timedelta(pouch.travel_days)
            today = _local_today(office, plan.now)
            return Estimate(office.working_day(max(arrival, today)), None, pouch.travel_days)
        ready, batch_day = _ready_at_centre(file, plan)
        if pouch is None:  # produced where it was enrolled
            return Estimate(ready, batch_day)
        if not pouch.weekdays:
            raise Unknown()
        # The next pouch after the passport is ready at the centre, then its journey.
        leaves = ready + timedelta(days=1)
        while leaves.weekday() not in pouch.weekdays:
            leaves += timedelta(days=1)
        arrival = leaves + timedelta(days=pouch.travel_days)
        return Estimate(office.working_day(arrival), batch_day, pouch.travel_days)
    except Unknown:
        return Estimate(None)
