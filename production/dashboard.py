"""The backlog dashboard's figures: one read for the staff page /staff/backlog/ and for
GET /api/v1/backlog/ alike, scoped by the staff scope (core/access.py).

Who sees which office: administrators every office, supervisors the offices they supervise
(a mission's supervisor that mission, a centre's that centre), nobody else any (the page and
the API answer 403). An office's row counts:

- for a production **centre**, the files it produces (its own applicants' and its missions');
- for a **mission**, the files enrolled there.

Per office: the files by status; the files taken into production on each of the last 30
local days (a centre: the size of its day's ProductionBatch; a mission: its files' moves
from `queued` to `in_production`); the backlog's hourly history (BacklogSnapshot); the
measured rate per working day (the mean of those daily figures over the last 7 days that had
any: the dispatcher takes a batch only on a working day) and the projected date when the
backlog is cleared at that rate, counted in the working days of the centre that produces the
office's files (production/workdays.py, the tracking estimate's calendar: weekends, closures
and suspensions skipped); None when the rate is 0 or no working day is in sight.

At most nine queries whatever the number of offices, files, days and snapshots.
"""

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, DateField, DateTimeField, F, Func, Q
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from appointments.waiting_room import LineFigures, line_figures
from core.access import StaffScope
from core.models import Office

from .models import WAITING, BacklogSnapshot, FileEvent, FileStatus, PassportFile, ProductionBatch
from .selectors import credited_offices
from .workdays import ProductionDays, office_calendars

# The backlog: the files waiting for production (on hold, received at the office, queued).
BACKLOG = WAITING
DAYS = 30  # days of dispatch and of history shown
RATE_DAYS = 7  # the rate is the mean over the last days with dispatch, this many at most


def _files_of(office_ids: Collection[int] | None):
    files = PassportFile.objects.all()
    if office_ids is not None:
        files = files.filter(Q(centre__office_id__in=office_ids) | Q(office_id__in=office_ids))
    return files


def status_counts(
    *, office_ids: Collection[int] | None = None, statuses: Collection[str] | None = None
) -> dict[int, Counter]:
    """The number of files in each status by office id (of `office_ids`, every office when
    None), counted as credited_offices says: one aggregate query."""
    files = _files_of(office_ids)
    if statuses is not None:
        files = files.filter(status__in=statuses)
    rows = (
        files.values_list("centre__office_id", "office_id", "office__kind", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, Counter] = defaultdict(Counter)
    for centre_office_id, office_id, kind, status, n in rows:
        for credited in credited_offices(
            centre_office_id=centre_office_id, office_id=office_id, kind=kind
        ):
            counts[credited][status] += n
    if office_ids is not None:
        counts = {pk: counts[pk] for pk in office_ids if pk in counts}
    return counts


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True)
class HistoryPoint:
    at: datetime
    backlog: int


@dataclass(frozen=True)
class OfficeBacklog:
    office: Office
    today: date  # the office's local day now
    by_status: dict[str, int]  # every status, in FileStatus order, zeros included
    dispatched_per_day: list[DayCount]  # the last DAYS local days, oldest first
    history: list[HistoryPoint]  # hourly, oldest first, over the last DAYS days
    # The days its files are taken into production (its centre's working days); None: no
    # calendar known, no date.
    production_days: ProductionDays | None = None

    @property
    def backlog(self) -> int:
        return sum(self.by_status[status] for status in BACKLOG)

    @property
    def rate_per_day(self) -> float:
        """Files taken into production per day: the mean over the last RATE_DAYS days that
        had any (0 when none had in DAYS days)."""
        days = [day.count for day in self.dispatched_per_day if day.count > 0][-RATE_DAYS:]
        return sum(days) / len(days) if days else 0.0

    @property
    def projected_clear_date(self) -> date | None:
        """The day the last waiting file is taken into production at the measured rate, in
        the working days of the centre (production.workdays.ProductionDays.clearing_day, the
        rule by which the tracking estimate places a file in its batch): today still takes
        the rest of a day's worth when the centre works today. Today when nothing waits;
        None when the rate is 0 (nothing measured: no date can be promised) or no working
        day is in sight (a suspension without reopening date)."""
        if self.production_days is None:
            return None
        return self.production_days.clearing_day(
            waiting=self.backlog,
            per_day=self.rate_per_day,
            taken_today=self.dispatched_per_day[-1].count if self.dispatched_per_day else 0,
        )


def may_see_backlog(scope: StaffScope) -> bool:
    """Supervisors and administrators."""
    return scope.is_supervisor


def backlog_office_ids(scope: StaffScope) -> frozenset[int] | None:
    """The offices whose backlog this member of staff sees: None for every office (an
    administrator), else those they supervise."""
    if scope.is_admin:
        return None
    return scope.supervisor_office_ids


def _local_day(field: str, office_timezone: str):
    """The date of a timestamp column in an office's timezone, in SQL."""
    return Cast(
        Func(F(office_timezone), F(field), function="timezone", output_field=DateTimeField()),
        DateField(),
    )


def _dispatched(office_ids: Collection[int] | None, *, now: datetime) -> dict[int, dict]:
    """{office id: {local day: files taken into production}}, over a little more than the
    last DAYS days (two queries): a centre's batches, a mission's files' moves."""
    since = now - timedelta(days=DAYS + 1)  # every office's last DAYS local days are after
    per_day: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    batches = ProductionBatch.objects.filter(day__gte=since.date(), size__gt=0)
    events = FileEvent.objects.filter(
        to_status=FileStatus.IN_PRODUCTION,
        from_status=FileStatus.QUEUED,
        at__gte=since,
        at__lte=now,
        file__office__kind=Office.Kind.MISSION,
    )
    if office_ids is not None:
        batches = batches.filter(centre__office_id__in=office_ids)
        events = events.filter(file__office_id__in=office_ids)
    for office_id, day, size in batches.values_list("centre__office_id", "day", "size"):
        per_day[office_id][day] += size
    events = (
        events.annotate(day=_local_day("at", "file__office__timezone"))
        .values_list("file__office_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for office_id, day, n in events:
        per_day[office_id][day] += n
    return per_day


def _history(office_ids: Collection[int] | None, *, since: datetime, now: datetime):
    snapshots = BacklogSnapshot.objects.filter(taken_at__gte=since, taken_at__lte=now)
    if office_ids is not None:
        snapshots = snapshots.filter(office_id__in=office_ids)
    history: dict[int, list[HistoryPoint]] = defaultdict(list)
    rows = snapshots.values_list("office_id", "taken_at", "on_hold", "enrolled", "queued")
    for office_id, at, on_hold, enrolled, queued in rows.order_by("office_id", "taken_at"):
        history[office_id].append(HistoryPoint(at=at, backlog=on_hold + enrolled + queued))
    return history


def backlog_figures(*, scope: StaffScope, now: datetime | None = None) -> list[OfficeBacklog]:
    """The figures of every office the scope sees, centres first then missions, by city;
    empty for someone who may not see the backlog (the caller answers 403 before)."""
    if not may_see_backlog(scope):
        return []
    now = now or timezone.now()
    office_ids = backlog_office_ids(scope)
    # Every office (a few dozen), each with the office of the centre producing its files:
    # their calendars give the working days of the projected dates.
    everyone = {
        office.pk: office
        for office in Office.objects.annotate(
            producer_id=Coalesce(F("mission__centre__office_id"), F("pk"))
        ).order_by("kind", "city", "code")
    }
    offices = [o for o in everyone.values() if office_ids is None or o.pk in office_ids]
    if not offices:
        return []
    calendars = office_calendars(now, everyone)
    counts = status_counts(office_ids=office_ids)
    dispatched = _dispatched(office_ids, now=now)
    history = _history(office_ids, since=now - timedelta(days=DAYS), now=now)
    figures = []
    for office in offices:
        today = now.astimezone(office.timezone).date()
        days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
        office_counts = counts.get(office.pk, Counter())
        figures.append(
            OfficeBacklog(
                office=office,
                today=today,
                by_status={status: office_counts[status] for status in FileStatus.values},
                dispatched_per_day=[
                    DayCount(day=day, count=dispatched[office.pk][day]) for day in days
                ],
                history=history[office.pk],
                production_days=ProductionDays(
                    centre=calendars[office.producer_id], office=calendars[office.pk], now=now
                ),
            )
        )
    return figures


def waiting_lines(*, scope: StaffScope, now: datetime | None = None) -> list[LineFigures]:
    """The waiting rooms of the offices the scope sees, open now or closed less than a day
    ago (appointments/waiting_room/): places taken, admitted, waiting, and the rate. One
    query; empty for someone who may not see the backlog."""
    if not may_see_backlog(scope):
        return []
    lines = line_figures(office_ids=backlog_office_ids(scope), now=now)
    return [figures for office_lines in lines.values() for figures in office_lines]
