"""The month grid of an office's page: weeks as rows (Monday first), each day with the number
of its free slots, drawn by the server (no JavaScript); months within the booking horizon
are reached by links. One query for the whole horizon (selectors.free_days), one for the
month's closures, whose reasons (a public holiday's name) the page says: a day shown off
without a word would look like a fault."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR

from core.models import Office

from . import selectors

MONTH_PARAMETER = "mois"


@dataclass(frozen=True)
class GridDay:
    day: date
    free_slots: int  # 0: nothing to book that day (past, closed, full)
    today: bool
    closed: str = ""  # why the office is closed that day, in the active language


@dataclass(frozen=True)
class ClosedDays:
    start: date
    end: date
    reason: str


@dataclass(frozen=True)
class Month:
    first: date  # its first day
    weeks: list[list[GridDay | None]]  # None: a day of the month before or after
    previous: date | None  # the first day of the month before, when it can be shown
    next: date | None
    free_days: int  # days of this month with a free slot
    closures: list[ClosedDays]  # this month's closures of the office, in order


def weekdays() -> list[tuple[str, str]]:
    """The columns' headers: (abbreviation, full name), Monday first."""
    return [(WEEKDAYS_ABBR[index], WEEKDAYS[index]) for index in range(7)]


def parse_month(value: str | None) -> date | None:
    """YYYY-MM as the month links write it; None when malformed."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        return None


def _shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_grid(*, office: Office, today: date, horizon_days: int, asked: date | None) -> Month:
    """The month `asked` (its first day) at `office`, kept within today's month and the
    horizon's; by default the month of the first free day (today's when none is free)."""
    last = today + timedelta(days=horizon_days)
    free = {
        free.day: free.free_slots
        for free in selectors.free_days(office=office, date_from=today, date_to=last)
    }
    earliest, latest = today.replace(day=1), last.replace(day=1)
    if asked is None:
        asked = min(free).replace(day=1) if free else earliest
    first = min(max(asked, earliest), latest)
    end = _shift(first, 1) - timedelta(days=1)
    closures = [
        ClosedDays(max(c.start_date, first), min(c.end_date, end), c.display_reason)
        for c in selectors.closures_between(office=office, date_from=first, date_to=end)
    ]
    reasons = {
        day: closed.reason
        for closed in closures
        for day in (
            closed.start + timedelta(days=n) for n in range((closed.end - closed.start).days + 1)
        )
    }
    weeks = [
        [
            GridDay(
                day=day,
                free_slots=free.get(day, 0),
                today=day == today,
                closed=reasons.get(day, ""),
            )
            if day.month == first.month
            else None
            for day in week
        ]
        for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
            first.year, first.month
        )
    ]
    return Month(
        first=first,
        weeks=weeks,
        previous=_shift(first, -1) if first > earliest else None,
        next=_shift(first, 1) if first < latest else None,
        free_days=sum(1 for day in free if (day.year, day.month) == (first.year, first.month)),
        closures=closures,
    )
