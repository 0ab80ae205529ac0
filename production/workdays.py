"""The days a production centre works, and the day a file waiting in its queue is taken
into production: the one calendar behind the tracking estimate (production/estimate.py),
the backlog dispatcher (production/backlog.py, which takes a batch only on such a day) and
the backlog dashboard's projected clearing date (production/dashboard.py).

A working day has opening hours, no closure, and no suspension covering those hours. The
n-th batch from today is today's for n = 0 (the caller knows whether today still takes
files), else the n-th working day after today; a file of an office under a suspension is
not taken before the suspension ends.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import ceil
from zoneinfo import ZoneInfo

from django.db.models import Q

from appointments.models import Closure, OpeningHours, Suspension
from core.models import Office

HORIZON_DAYS = 400  # no date further than this: "not known yet"


class Unknown(Exception):
    """No honest date can be given (an open-ended suspension, a closed office, no pouch)."""


@dataclass
class OfficeCalendar:
    """When an office works: its opening hours by weekday, closures, suspensions."""

    tz: ZoneInfo
    hours: dict[int, tuple[time, time]] = field(default_factory=dict)  # first open, last close
    closures: list[tuple[date, date]] = field(default_factory=list)
    suspensions: list[tuple[datetime, datetime | None]] = field(default_factory=list)

    def works_on(self, day: date) -> bool:
        """Opening hours that day, no closure, and no suspension covering them all. Raises
        Unknown when a suspension without reopening date covers the day."""
        if day.weekday() not in self.hours:
            return False
        if any(start <= day <= end for start, end in self.closures):
            return False
        opens, closes = self.hours[day.weekday()]
        opening = datetime.combine(day, opens, tzinfo=self.tz)
        closing = datetime.combine(day, closes, tzinfo=self.tz)
        for starts_at, reopens_at in self.suspensions:
            if starts_at <= opening and (reopens_at is None or reopens_at >= closing):
                if reopens_at is None:
                    raise Unknown()
                return False
        return True

    def works_today(self, now: datetime) -> bool:
        """Whether the office works on its local day of `now`: the backlog dispatcher takes
        a centre's batch only on such a day, and the estimate counts only these."""
        try:
            return self.works_on(now.astimezone(self.tz).date())
        except Unknown:
            return False

    def suspended_until(self, now: datetime) -> datetime | None:
        """When the suspensions in force at `now` end (None: none is); Unknown when one
        has no reopening date."""
        ends = [
            reopens_at
            for starts_at, reopens_at in self.suspensions
            if starts_at <= now and (reopens_at is None or reopens_at > now)
        ]
        if None in ends:
            raise Unknown()
        return max(ends, default=None)

    def working_day(self, first: date, *, nth: int = 0) -> date:
        """The first working day on or after `first`, or the `nth` one after that."""
        day, left = first, nth
        for _step in range(HORIZON_DAYS):
            if self.works_on(day):
                if left == 0:
                    return day
                left -= 1
            day += timedelta(days=1)
        raise Unknown()

    def working_days(self, first: date):
        """The working days from `first` on, in order (at most HORIZON_DAYS days ahead)."""
        for offset in range(HORIZON_DAYS):
            day = first + timedelta(days=offset)
            if self.works_on(day):
                yield day


def office_calendars(
    now: datetime, offices: dict[int, Office] | None = None
) -> dict[int, OfficeCalendar]:
    """Every active office's calendar (or those of `offices`), by office id, with the
    closures and suspensions from two days before `now` on (four queries; three when the
    offices are given)."""
    if offices is None:
        offices = {o.pk: o for o in Office.objects.filter(active=True)}
    calendars = {pk: OfficeCalendar(tz=o.timezone) for pk, o in offices.items()}
    for hours in OpeningHours.objects.filter(office__in=offices).order_by("starts"):
        calendar = calendars[hours.office_id]
        opens, closes = calendar.hours.get(hours.weekday, (hours.starts, hours.ends))
        calendar.hours[hours.weekday] = (min(opens, hours.starts), max(closes, hours.ends))
    recent = now.date() - timedelta(days=2)
    for closure in Closure.objects.filter(office__in=offices, end_date__gte=recent):
        calendars[closure.office_id].closures.append((closure.start_date, closure.end_date))
    recently = now - timedelta(days=2)
    suspensions = Suspension.objects.filter(
        Q(reopens_at__isnull=True) | Q(reopens_at__gt=recently)
    ).prefetch_related("offices")
    for suspension in suspensions:
        listed = [o.pk for o in suspension.offices.all()] or list(calendars)
        for pk in listed:
            if pk in calendars:
                calendars[pk].suspensions.append((suspension.starts_at, suspension.reopens_at))
    return calendars


@dataclass(frozen=True)
class ProductionDays:
    """The days on which the files of one office are taken into production, seen at `now`:
    the working days of the centre that produces them, and not while a suspension is in
    force at the office itself (a mission may be suspended alone)."""

    centre: OfficeCalendar
    office: OfficeCalendar
    now: datetime

    @property
    def today(self) -> date:
        """The centre's local day now (its batches are counted in its days)."""
        return self.now.astimezone(self.centre.tz).date()

    def takes_today(self) -> bool:
        """Whether the centre takes a batch today (a working day for it)."""
        return self.centre.works_today(self.now)

    def batch_day(self, index: int) -> date:
        """The day of the index-th batch from today: today's for 0, else the index-th
        working day of the centre after today; no earlier than the day the office's
        suspension in force ends. Unknown when no such day is within HORIZON_DAYS."""
        day = self.today
        if index > 0:
            day = self.centre.working_day(self.today + timedelta(days=1), nth=index - 1)
        reopens_at = self.office.suspended_until(self.now)
        if reopens_at is not None:
            day = self.centre.working_day(max(day, reopens_at.astimezone(self.centre.tz).date()))
        return day

    def clearing_day(self, *, waiting: int, per_day: float, taken_today: int) -> date | None:
        """The day the last of `waiting` files is taken into production at `per_day` files
        per working day, today's batch having taken `taken_today` already (today still takes
        the rest of a day's worth, if the centre works today): the day of the batch the last
        file falls into, as the estimate places a file. Today when nothing waits; None when
        nothing is taken (per_day 0) or no day is within the horizon."""
        if waiting <= 0:
            return self.today
        if per_day <= 0:
            return None
        room = max(per_day - taken_today, 0) if self.takes_today() else 0
        index = 0 if waiting <= room else ceil((waiting - room) / per_day)
        try:
            return self.batch_day(index)
        except Unknown:
            return None
