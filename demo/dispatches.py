"""When the demo files' moves happen, so that their histories hold the backlog dispatcher's
work as the production app does it (production/backlog.py), and the backlog dashboard has
rates and clearing dates to show:

- a file goes from `queued` to `in_production` only in its centre's batch of a working day
  (production.workdays: opening hours, no closure, no suspension), at the centre's opening
  that day, by the dispatcher (no author, its note), and that day's ProductionBatch counts it;
- the dispatcher takes every queued file when it runs (a centre's capacity is far above the
  demo's flow), so a file is queued after the batch before the one that takes it, a file
  leaving the queue otherwise (held, rejected) leaves it before the next batch, and a file
  still queued now came after the centre's last batch.

The times are drawn backwards from now (the last move 0-40 days ago, 2-30 hours between
moves), each move then placed where these rules want it, so that no move is in the future.
"""

import bisect
import random
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.db import connection

from core.models import Office
from production.models import Centre, FileStatus, ProductionBatch
from production.workdays import OfficeCalendar, Unknown, office_calendars

HISTORY_DAYS = 120  # further back than any demo history goes
IDLE_DAYS = 40  # the last move of a file, at most this long ago


def is_dispatch(start: str, to: str) -> bool:
    """A move the demo leaves to the backlog dispatcher (the only way files enter
    production from the queue in the demo)."""
    return start == FileStatus.QUEUED and to == FileStatus.IN_PRODUCTION


class Batches:
    """The moments a centre took its batch of the day (the opening of each of its working
    days over the last HISTORY_DAYS days, today's excepted: the dispatcher takes today's
    when the portal runs) and the files each batch took."""

    def __init__(self, calendar: OfficeCalendar, *, now: datetime) -> None:
        self.tz = calendar.tz
        today = now.astimezone(self.tz).date()
        moments = []
        for back in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=back)
            try:
                works = calendar.works_on(day)
            except Unknown:
                works = False
            if works:
                opens = calendar.hours[day.weekday()][0]
                moments.append(datetime.combine(day, opens, tzinfo=self.tz))
        self.moments = moments
        self.sizes: Counter[date] = Counter()

    def at_or_before(self, moment: datetime) -> datetime:
        """The last batch taken at or before `moment`."""
        index = bisect.bisect_right(self.moments, moment)
        if index == 0:
            raise ValueError(f"no working day in the {HISTORY_DAYS} days before {moment}")
        return self.moments[index - 1]

    def before(self, moment: datetime) -> datetime | None:
        """The last batch taken strictly before `moment` (None: none in the window)."""
        index = bisect.bisect_left(self.moments, moment)
        return self.moments[index - 1] if index else None

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()


def centre_batches(*, now: datetime) -> dict[int, Batches]:
    """Every centre's batch moments, by the centre office's id."""
    centres = {o.pk: o for o in Office.objects.filter(kind=Office.Kind.CENTRE, active=True)}
    calendars = office_calendars(now - timedelta(days=HISTORY_DAYS), centres)
    return {pk: Batches(calendar, now=now) for pk, calendar in calendars.items()}


def _gap(rng: random.Random) -> timedelta:
    return timedelta(hours=rng.randint(2, 30), minutes=rng.randint(0, 59))


def timeline(
    rng: random.Random, statuses: Sequence[str], *, batches: Batches, now: datetime
) -> list[datetime]:
    """The moment of each status of a history (the first: enrolment), by the rules above;
    each dispatch is counted in `batches`."""
    times: list[datetime] = [now] * len(statuses)

    def entered_by_dispatch(i: int) -> bool:
        return i > 0 and is_dispatch(statuses[i - 1], statuses[i])

    def queued_since(until: datetime, drawn: datetime) -> datetime:
        # Queued, then taken or left at `until`: after the batch before `until`, which
        # would have taken it otherwise.
        floor = batches.before(until)
        if floor is None or drawn > floor:
            return drawn
        return floor + (until - floor) * rng.uniform(0.1, 0.9)

    last = len(statuses) - 1
    times[last] = now - timedelta(days=rng.randint(0, IDLE_DAYS), minutes=rng.randint(0, 600))
    if statuses[last] == FileStatus.QUEUED:
        times[last] = queued_since(now, times[last])
    for i in range(last, -1, -1):
        if entered_by_dispatch(i):
            times[i] = batches.at_or_before(times[i])
        if i == 0:
            break
        earlier = times[i] - _gap(rng)
        if statuses[i - 1] == FileStatus.QUEUED:
            earlier = queued_since(times[i], earlier)
        times[i - 1] = earlier
    for i in range(1, last + 1):
        if entered_by_dispatch(i):
            batches.sizes[batches.day_of(times[i])] += 1
    return times


# The batches' sizes added in one statement (a batch of the same day may exist already).
_GROW = """
    UPDATE production_productionbatch AS b SET size = b.size + d.n
    FROM unnest(%s::bigint[], %s::date[], %s::int[]) AS d(centre_id, day, n)
    WHERE b.centre_id = d.centre_id AND b.day = d.day
"""


def batches_write(batches: dict[int, Batches]) -> dict[tuple[int, date], int]:
    """The ProductionBatch of every (centre, day) the histories dispatched on, sized by
    them (the check constraint batch_within_capacity refuses a day over the centre's
    capacity); their ids by (centre office id, day)."""
    centres = {c.office_id: c for c in Centre.objects.filter(office_id__in=batches)}
    rows = [
        (centres[office_id], day, n)
        for office_id, taken in batches.items()
        for day, n in sorted(taken.sizes.items())
    ]
    ProductionBatch.objects.bulk_create(
        [ProductionBatch(centre=c, day=day, capacity=c.daily_capacity) for c, day, _n in rows],
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _GROW,
            [[c.pk for c, _d, _n in rows], [d for _c, d, _n in rows], [n for *_r, n in rows]],
        )
    ids = ProductionBatch.objects.filter(centre__office_id__in=batches)
    return {
        (office_id, day): pk
        for office_id, day, pk in ids.values_list("centre__office_id", "day", "pk")
    }
