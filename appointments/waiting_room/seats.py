"""How many of a line's places are in, given the seats: the line admits nobody for whom no
seat is left.

The rate alone would let people in faster than seats remain, and those admitted would race
each other for the last seats: the faster form-fillers among the later-admitted would take
them ahead of slower earlier-admitted people. So each admitted place *reserves* a seat: place
`q` comes in at the moment the rate reaches it (places.py) or, if later, the moment a seat is
there for it:

    places in  <=  seats  +  seats given back by those in before it

- `seats` (S): the seats the line has at the reopening: the office's free seats then, plus
  the seats held by this line's admissions (pending or booked with one of its tickets) when
  it is counted after the reopening began. Counted by each ticket issued before the
  reopening (as bookable at the reopening) and settled by the first one issued at or after
  it, under the line's lock (WaitingLine.seats), so that every process counts with the same
  number. A booking by an admitted person moves a seat from free to held and its hold ending
  moves it back: neither changes S. Seats freed outside the line during the window (a
  booking made before the suspension cancelled, slots opened) are not given to it (they
  stay bookable by anyone admitted, and by everyone once the window closes), and seats
  closed are not taken back from it: either way, a place that was in stays in with the same
  moment, and nobody is let in with a moment already past.
- *Given back*: an admission that has not booked within its grace (WAITING_ROOM_GRACE_SECONDS
  at least, longer when the line's people take longer to book: _Delays) of its moment (a
  tout's tickets that never book, a person who gave up) gives its seat back to the line
  then (plus GRACE_MARGIN seconds, for a booking stamped within the grace to commit); an
  admission that booked gives its seat back once its booking holds it no more (the hold
  lapsed or was released, the booking was cancelled), and not before its grace is over.
  Each event is a fact with its own moment, readable at any time: so every process computes
  the same moment of admission for every place, a refresh needs no write, and a place that
  was in stays in with the same moment (facts only add, and a fact can only move an
  admission earlier).

And the line lets in nobody while WAITING_ROOM_IN_PROGRESS admitted places are still booking
(admitted, not booked, within their grace): the same count as the seats, with a place's room
left when it books or its grace ends. The rate is what the server sustains when people book
at their usual pace; when the server slows (a rush of refusals, a slow disk), people take
longer, the room fills, and admissions slow down with it instead of piling more people onto
a server that answers in seconds, where everyone's booking takes longer and the slowest run
out of grace.

So the admitted who have not booked yet (within their grace) never outnumber the free seats;
an admission still lets its holder book for ADMISSION_MINUTES, and one who books after the
grace, or again after giving its seat back, takes a free seat if one is left (they were
ahead in the line). After a wait for seats, places come in at most at the rate again, one
after another, not all at once.

What a tout's admissions that never book cost: each holds a seat back for the grace period,
then gives it back. A tout whose tickets are most of the line slows it to about `seats /
grace` admissions per second while seats are short (1,800 seats and 120 s: 15 a second);
the tickets a tout gets within the turn are bounded per address and per network (services.py).

Everything is computed from two reads (the seats and this line's bookings, one statement),
kept by each process for GATE_SECONDS: a refresh of the waiting page reads no more than a
row by primary key most of the time, and never writes."""

from __future__ import annotations

from datetime import datetime
from time import monotonic

from django.db import connection

from ..models import Appointment, WaitingLine
from .moments import Gate, _compute, _key, _Read

# How long a process answers from what it read: a refresh within this many seconds of the
# last read of this line is answered from memory (a person let in sees it that much later).
GATE_SECONDS = 1.0


# The line's seats at `now`: the office's free seats and those its admissions hold.
_SEATS = """
    SELECT (SELECT coalesce(sum(s.capacity - s.booked - s.reserved), 0)
            FROM epassport_bookable_slots(%s) s WHERE s.office_id = %s)
         + (SELECT count(*) FROM appointments_appointment a
            JOIN appointments_waitingticket t ON t.id = a.admission_ticket
            WHERE a.admission_ticket IS NOT NULL AND t.line_id = %s AND a.status = ANY(%s))
"""
# The seats read and the bookings of the line's tickets, in one statement (one snapshot): the
# row without a ticket carries the office's free seats, the others one booking each.
_READ = """
    SELECT NULL::bigint, NULL::boolean, NULL::integer, NULL::integer, NULL::text,
           NULL::timestamptz, NULL::timestamptz, NULL::timestamptz,
           (SELECT coalesce(sum(s.capacity - s.booked - s.reserved), 0)
            FROM epassport_bookable_slots(%s) s WHERE s.office_id = %s)
    UNION ALL
    SELECT t.id, t.overflow, t.lane_number, t.ahead, a.status, a.created_at,
           a.hold_expires_at, a.updated_at, NULL
    FROM appointments_appointment a
    JOIN appointments_waitingticket t ON t.id = a.admission_ticket
    WHERE a.admission_ticket IS NOT NULL AND t.line_id = %s
"""


# Per process: {line id: (the last read, the gate computed from it)}.
_cache: dict[int, tuple[_Read, Gate]] = {}


def forget_gates() -> None:
    """Drop what this process read (tests that change seats or travel in time)."""
    _cache.clear()


def line_seats(*, line: WaitingLine, at: datetime) -> int:
    """The seats the line has at `at`: the office's free seats bookable at `at` (before the
    reopening: as bookable at the reopening), plus those its admissions hold."""
    with connection.cursor() as cursor:
        cursor.execute(_SEATS, [at, line.office_id, line.pk, list(Appointment.SEAT_HOLDING)])
        return int(cursor.fetchone()[0])


def _read(line: WaitingLine, now: datetime) -> _Read:
    with connection.cursor() as cursor:
        cursor.execute(_READ, [now, line.office_id, line.pk])
        rows = cursor.fetchall()
    free = next(int(row[8]) for row in rows if row[0] is None)
    return _Read(mono=monotonic(), now=now, free=free, rows=[r for r in rows if r[0] is not None])


def _fresh(read: _Read, now: datetime) -> bool:
    age = (now - read.now).total_seconds()
    return 0 <= age <= GATE_SECONDS and monotonic() - read.mono <= GATE_SECONDS


def gate(*, line: WaitingLine, now: datetime, reopens_at: datetime) -> Gate:
    """The line's places in at `now` and the seats left: from this process's last read of the
    line when it is under GATE_SECONDS old, else from a new read."""
    key = _key(line, reopens_at)
    hit = _cache.get(line.pk)
    if hit is not None and _fresh(hit[0], now) and hit[1].key == key:
        return hit[1]
    # A new read also when the line's history changed (a rate set, a place issued to an
    # empty line and in at once): rare, and then the moment matters.
    read = _read(line, now)
    if len(_cache) > 200:
        _cache.clear()
    computed = _compute(line, reopens_at, read)
    _cache[line.pk] = (read, computed)
    return computed


def refresh_after(gate_: Gate, now_at: float) -> float | None:
    """Seconds until a seat should come back to the line, if one is due."""
    if not gate_.due:
        return None
    return max(0.0, gate_.due[0] - now_at)
