"""When each place of a line comes in, computed from one read of its seats and bookings
(seats.py says the rule and reads): the moments the rate reaches each place, the seats
given back, the grace, and what a refresh is told."""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Count

from ..models import Appointment, WaitingLine, WaitingTicket

# A booking stamped within the grace must have committed by then for the seat to stay its
# own: bookings commit within milliseconds, seconds under the heaviest load.
GRACE_MARGIN = 5.0

# Moments are sums of floats: a place the rate's count has reached is in, whatever the last bit.
_EPSILON = 1e-6


# The grace follows how long the line's admitted people take to book: GRACE_FACTOR times the
# median delay from admission to booking of its last GRACE_SAMPLE bookings (once it has half
# that many), never less than WAITING_ROOM_GRACE_SECONDS nor more than ADMISSION_MINUTES.
# When the server is slow (a rush) people take longer, and a fixed grace would give their
# seats to later people while they are still booking, who would then race them again. The
# median, not a higher percentile: a tout's holds (HOLDS_PER_NETWORK per network at once)
# are too few among 100 to 200 bookings to move it, and could move a 90th percentile.
GRACE_FACTOR = 3.0
GRACE_SAMPLE = 200


def grace_seconds() -> float:
    """The shortest time an admission that has not booked keeps a seat for its holder."""
    return float(settings.WAITING_ROOM_GRACE_SECONDS)


class _Delays:
    """The delays from admission to first booking of the line's last GRACE_SAMPLE bookings,
    and the grace they give."""

    def __init__(self, shortest: float, longest: float) -> None:
        self.shortest, self.longest = shortest, max(shortest, longest)
        self.recent: deque[float] = deque()
        self.ordered: list[float] = []

    def add(self, delay: float) -> None:
        self.recent.append(delay)
        insort(self.ordered, delay)
        if len(self.recent) > GRACE_SAMPLE:
            self.ordered.pop(bisect_left(self.ordered, self.recent.popleft()))

    def grace(self) -> float:
        if len(self.ordered) < GRACE_SAMPLE // 2:
            return self.shortest
        median = self.ordered[len(self.ordered) // 2]
        return min(self.longest, max(self.shortest, GRACE_FACTOR * median))


@dataclass(frozen=True)
class _Booking:
    created: float  # seconds after the reopening
    holding: bool  # holds a seat now (pending or booked)
    ended: float | None  # when it stopped holding one (None while it holds one)


@dataclass
class Gate:
    """The line at `at` (seconds after the reopening): the moments the places in came in, in
    line order, and what is left for the next ones."""

    at: float
    moments: list[float]  # moment of admission of places 1, 2, ... (seconds after reopening)
    graces: list[float]  # how long each of them keeps its seat without booking
    seats: int  # S: free seats, plus those held by this line's admissions
    free: int  # the office's free seats
    units: int  # S plus the seats given back by `at`
    due: list[float] = field(default_factory=list)  # seats that will be given back (moments)
    grace: float = 0.0  # the grace of the next place to come in
    key: tuple = ()

    @property
    def admitted(self) -> int:
        return len(self.moments)

    @property
    def seats_left(self) -> int:
        """Seats neither taken nor kept for someone admitted: the room for the next places."""
        return max(0, self.units - self.admitted)


@dataclass
class _Read:
    mono: float
    now: datetime
    free: int
    rows: list[tuple]


def _key(line: WaitingLine, reopens_at: datetime) -> tuple:
    # What the places in depend on besides the read: the line's history (a place issued to
    # an empty line, in at once, appends a segment), its draw, the settings. Not the number
    # of places: a new place comes after every place in.
    return (
        reopens_at,
        len(line.segments or ()),
        line.rate,
        line.early,
        line.seats,
        grace_seconds(),
        settings.WAITING_ROOM_IN_PROGRESS,
        settings.ADMISSION_MINUTES,
        settings.SECRET_KEY,
    )


class _Rates:
    """The moment the rate alone reaches place 1, 2, ... (places._admitted_at, walked in
    order: the segment that reaches a place never comes before the one of the place before)."""

    def __init__(self, segments) -> None:
        self.segments = segments
        self.index = 0
        self.starts = [segment.at for segment in segments]

    def moment(self, position: int) -> float | None:
        segments = self.segments
        while self.index < len(segments):
            segment = segments[self.index]
            if position <= segment.base:
                return segment.at
            last = self.index + 1 == len(segments)
            if segment.rate > 0 and (last or position <= segments[self.index + 1].start):
                return segment.at + (position - segment.base) / segment.rate
            self.index += 1
        return None

    def rate_at(self, moment: float) -> float:
        index = bisect_right(self.starts, moment)
        return self.segments[index - 1].rate if index else 0.0

    def resume(self, moment: float) -> float | None:
        """`moment`, or the start of the next segment that lets people in if the line is
        paused then."""
        if self.rate_at(moment) > 0:
            return moment
        later = [s.at for s in self.segments if s.at > moment and s.rate > 0]
        return later[0] if later else None


def _bookings(read: _Read, reopens_at: datetime) -> dict[tuple, list[_Booking]]:
    """The bookings of each ticket, by (ticket id, overflow, lane number, ahead)."""
    holding = set(Appointment.SEAT_HOLDING)
    expired = Appointment.Status.EXPIRED
    by_ticket: dict[tuple, list[_Booking]] = {}
    for ticket, overflow, lane, ahead, status, created, expires, updated, _free in read.rows:
        if status in holding:
            ended = None
        else:  # a lapsed hold stopped holding its seat when it lapsed, whenever marked
            ended = (expires if status == expired and expires else updated) - reopens_at
            ended = ended.total_seconds()
        by_ticket.setdefault((ticket, overflow, lane, ahead), []).append(
            _Booking(
                created=(created - reopens_at).total_seconds(),
                holding=status in holding,
                ended=ended,
            )
        )
    return by_ticket


def _positions(line: WaitingLine, reopens_at: datetime, tickets) -> dict[int, tuple]:
    """{position in the line: ticket key} for the tickets that booked (places.py's order)."""
    from .places import _drawn, _early

    early = _early(line, reopens_at)
    before: list[tuple[int, int]] | None = None
    positions = {}
    for key in tickets:
        pk, overflow, lane, ahead = key
        if overflow:
            if lane > line.ahead:
                position = lane + line.issued - line.overflowed
            else:
                if before is None:  # regular tickets by how many overflow ones were ahead
                    before = list(
                        WaitingTicket.objects.filter(line_id=line.pk, overflow=False)
                        .values_list("ahead")
                        .annotate(n=Count("pk"))
                        .order_by("ahead")
                    )
                position = lane + sum(n for value, n in before if value < lane)
        elif lane <= early:
            position = _drawn(line.pk, early)[1][pk]
        else:
            position = lane + ahead
        positions[position] = key
    return positions


def _compute(line: WaitingLine, reopens_at: datetime, read: _Read) -> Gate:
    from .places import _reached, _segments

    at = (read.now - reopens_at).total_seconds()
    by_ticket = _bookings(read, reopens_at)
    if line.seats is not None:
        seats = line.seats
    else:  # no ticket counted them yet: as they are (the same for every process until then)
        seats = read.free + sum(1 for bs in by_ticket.values() for b in bs if b.holding)
    positions = _positions(line, reopens_at, by_ticket)
    delays = _Delays(grace_seconds(), 60.0 * settings.ADMISSION_MINUTES)
    # The first booking of each ticket, in the order they were made, with the ticket's place.
    first = sorted(
        (min(b.created for b in bookings), position)
        for position, key in positions.items()
        for bookings in [by_ticket[key]]
    )
    sampled = 0
    rates = _Rates(_segments(line))
    reached = min(line.issued, _reached(line, reopens_at, read.now)) if at >= 0 else 0

    moments: list[float] = []
    graces: list[float] = []
    given_back: list[float] = []  # a heap of the moments seats come back to the line
    in_progress = settings.WAITING_ROOM_IN_PROGRESS
    left: list[float] = []  # a heap of the moments admitted places stopped booking
    units = seats
    previous: float | None = None
    paced = False
    for position in range(1, reached + 1):
        rate_moment = rates.moment(position)
        if rate_moment is None:
            break
        moment = rate_moment
        if position > seats:
            # Its seat is one given back: the earliest not yet used by a place before it
            # (those given back later come after every place in so far).
            if not given_back or given_back[0] > at:
                break
            moment = max(moment, heapq.heappop(given_back))
        if in_progress and position > in_progress:
            # Its room among those booking is one left by a place before it: the earliest
            # not yet used (a place that booked, or whose grace ran out).
            if not left or left[0] > at:
                break
            moment = max(moment, heapq.heappop(left))
        if previous is not None and (paced or moment > rate_moment + _EPSILON):
            # After a wait for seats the places come in at the rate again, not all at once.
            rate = rates.rate_at(previous)
            if rate > 0:
                moment = max(moment, previous + 1 / rate)
            resumed = rates.resume(moment)
            if resumed is None:
                break
            moment = resumed
        if moment > at + _EPSILON:
            break
        paced = moment > rate_moment + _EPSILON
        # The grace of this place, from the bookings made (and committed) before it came in.
        while sampled < len(first) and first[sampled][0] <= moment - GRACE_MARGIN:
            created, booker = first[sampled]
            sampled += 1
            if booker <= len(moments):
                delays.add(max(0.0, created - moments[booker - 1]))
        grace = delays.grace()
        moments.append(moment)
        graces.append(grace)
        previous = moment
        bookings = by_ticket.get(positions.get(position))
        if in_progress:
            heapq.heappush(left, _left(moment, bookings, grace))
        back = _given_back(moment, bookings, grace)
        if back is not None:
            heapq.heappush(given_back, back)
            if back <= at:
                units += 1
    while sampled < len(first) and first[sampled][0] <= at - GRACE_MARGIN:
        created, booker = first[sampled]
        sampled += 1
        if booker <= len(moments):
            delays.add(max(0.0, created - moments[booker - 1]))
    return Gate(
        at=at,
        moments=moments,
        graces=graces,
        grace=delays.grace(),
        seats=seats,
        free=read.free,
        units=units,
        due=sorted(b for b in given_back if b > at),
        key=_key(line, reopens_at),
    )


def _left(moment: float, bookings: list[_Booking] | None, grace: float) -> float:
    """When a place let in at `moment` stopped being one of those booking: its first booking
    within the grace, or the end of its grace."""
    within = [b.created for b in bookings or () if b.created <= moment + grace]
    if within:
        return max(moment, min(within))
    return moment + grace + GRACE_MARGIN


def _given_back(moment: float, bookings: list[_Booking] | None, grace: float) -> float | None:
    """When the seat kept for a place let in at `moment` comes back to the line, if ever."""
    if not bookings or not any(b.created <= moment + grace for b in bookings):
        return moment + grace + GRACE_MARGIN  # not booked within the grace
    if any(b.holding for b in bookings):
        return None  # it holds its seat
    # It booked and holds no seat any more (the hold lapsed, was released or cancelled):
    # the seat comes back then, not before the grace is over. (Booking then cancelling at
    # once keeps a seat from the line no longer than not booking at all.)
    return max(max(b.ended for b in bookings), moment + grace + GRACE_MARGIN)
