"""The waiting room's writes: a new place (ticket) in a line, a line's rate. Both take the
line's row lock, which orders the arrivals and the line's history."""

import math
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from ..models import WaitingLine, WaitingNetwork, WaitingTicket
from . import seats
from .places import Place, _open, _place, _reached, _segments
from .tokens import WaitingRoomFullNetwork
from .window import window_at

_LINE_INSERT = """
    INSERT INTO appointments_waitingline
        (office_id, suspension_id, rate, segments, issued, overflowed, ahead, created_at)
    VALUES (%s, %s, %s, '[]', 0, 0, 0, %s)
    ON CONFLICT (office_id, suspension_id) DO NOTHING
"""
# One more ticket for the address, only while it has fewer than the bound: no row back
# means over it. Concurrent requests of one address queue on its row.
_ADDRESS_TAKE = """
    INSERT INTO appointments_waitingnetwork AS n (line_id, kind, network, tickets)
    VALUES (%s, %s, %s, 1)
    ON CONFLICT (line_id, kind, network) DO UPDATE SET tickets = n.tickets + 1
    WHERE n.tickets < %s
    RETURNING n.tickets
"""
# One more ticket for the network, whatever its count: past the bound, the ticket goes to
# the back of the line. Concurrent requests of one network queue on its row, so each gets
# its own count.
_NETWORK_TAKE = """
    INSERT INTO appointments_waitingnetwork AS n (line_id, kind, network, tickets)
    VALUES (%s, %s, %s, 1)
    ON CONFLICT (line_id, kind, network) DO UPDATE SET tickets = n.tickets + 1
    RETURNING n.tickets
"""


# Tickets past an address's own bound go to the back of the line (a carrier-grade NAT address
# carries many people), up to this many times the bound; past that the address is refused.
OVERFLOW_PER_ADDRESS = 16


def _segment(*, at: float, start: int, base: int, rate: float) -> dict:
    return {"at": at, "start": start, "base": base, "rate": rate}


def _history(line: WaitingLine) -> list[dict]:
    """The line's segments as stored, the first (from the reopening) made explicit."""
    return [_segment(at=s.at, start=s.start, base=s.base, rate=s.rate) for s in _segments(line)]


def ticket_issue(
    *, office_id: int, network: str, address: str, now: datetime | None = None
) -> Place:
    """A new ticket in the office's line at `now`, from `address` (the rate limit's key,
    clients.client_ip) in `network` (its /24 or /48, clients.hold_network). Outside a
    window no ticket is made: the place is OPEN with an admission.

    Past WAITING_ROOM_PER_ADDRESS tickets for its address, or WAITING_ROOM_PER_NETWORK for
    its network, the ticket is still given, at the back of the line: after every ticket
    within the bounds (those already in excepted), in order among such tickets; a person
    behind a crowded carrier NAT is late, never locked out. Only past OVERFLOW_PER_ADDRESS
    times the address's bound does the address get WaitingRoomFullNetwork (with
    `retry_after`: until the window closes): a bound on the rows one address writes."""
    now = now or timezone.now()
    window = window_at(office_id=office_id, now=now)
    if window is None:
        return _open(office_id=office_id, now=now)
    # Who may be in at `now`, counted before taking the line's lock, so that the lock is not
    # held meanwhile: at most as many as this process last found in (seats.py, under a second
    # ago) plus what the rate can have let in since.
    in_at_most = _in_at_most(office_id=office_id, window=window, now=now)
    ticket, line = _ticket_take(
        office_id=office_id,
        network=network,
        address=address,
        now=now,
        window=window,
        in_at_most=in_at_most,
    )
    return _place(ticket, line, office_id=office_id, now=now)


def _in_at_most(*, office_id: int, window, now: datetime) -> int | None:
    """At most how many of the line's places are in at `now` (None: no line yet, or before
    the reopening)."""
    reopens_at = window.reopens_at
    if now < reopens_at:
        return None
    line = WaitingLine.objects.filter(office_id=office_id, suspension_id=window.suspension.pk)
    line = line.first()
    if line is None:
        return None
    gate = seats.gate(line=line, now=now, reopens_at=reopens_at)
    since = max(0.0, (now - reopens_at).total_seconds() - gate.at)
    # Places come in at least 1/rate seconds apart, on the rate's count or after a wait for
    # seats alike.
    return gate.admitted + math.ceil(line.rate * since - 1e-9)


@transaction.atomic
def _ticket_take(
    *, office_id: int, network: str, address: str, now: datetime, window, in_at_most: int | None
):
    reopens_at = window.reopens_at
    with connection.cursor() as cursor:
        cursor.execute(
            _LINE_INSERT, [office_id, window.suspension.pk, settings.WAITING_ROOM_RATE, now]
        )
    line_id = WaitingLine.objects.values_list("pk", flat=True).get(
        office_id=office_id, suspension_id=window.suspension.pk
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _ADDRESS_TAKE,
            [
                line_id,
                WaitingNetwork.ADDRESS,
                address[:50],
                settings.WAITING_ROOM_PER_ADDRESS * OVERFLOW_PER_ADDRESS,
            ],
        )
        taken = cursor.fetchone()
        if taken is None:
            raise WaitingRoomFullNetwork(
                retry_after=max(1, math.ceil((window.closes_at - now).total_seconds()))
            )
        cursor.execute(_NETWORK_TAKE, [line_id, WaitingNetwork.NETWORK, network[:50]])
        overflow = (
            cursor.fetchone()[0] > settings.WAITING_ROOM_PER_NETWORK
            or taken[0] > settings.WAITING_ROOM_PER_ADDRESS
        )
    # The line's row lock gives the arrival numbers in order (the order of commit), without
    # gaps, and orders the settling of the draw and the line's history.
    line = WaitingLine.objects.select_for_update().get(pk=line_id)
    line.suspension = window.suspension
    regular = line.issued - line.overflowed
    number = line.issued + 1
    fields = ["issued", "overflowed", "ahead"]
    admitted = 0
    if now >= reopens_at:
        if line.early is None or line.early_for != reopens_at:
            # The first ticket at or after the reopening closes the draw: every ticket within
            # the bounds before it is drawn, none after it, whichever process's clock says
            # what, and whenever the others commit (they wait on this row). It settles the
            # seats the line lets people in for too.
            line.early, line.early_for = regular, reopens_at
            line.seats = seats.line_seats(line=line, at=now)
            fields += ["early", "early_for", "seats"]
        reached = _reached(line, reopens_at, now)
        # At most this many are in: the rate's count, and no more than seats allow. (Too
        # many here, by a second's worth of the rate at most, puts places at the back that
        # are about to come in ahead of this one; too few would send back some that are in.)
        admitted = reached if in_at_most is None else min(reached, in_at_most)
        if reached >= number and admitted >= line.issued:
            # Everyone before may be in already: this one is in now (when a seat is there),
            # and the count goes on from here, so that the time the line stood empty does not
            # let a later crowd in all at once. Those in before keep the moment they came in.
            # (While seats hold the line back nobody is let in on the rate's count alone.)
            at = (now - reopens_at).total_seconds()
            line.segments = [
                *_history(line),
                _segment(at=at, start=line.issued, base=number, rate=line.rate),
            ]
            fields.append("segments")
    elif line.early_for is None or line.early_for != reopens_at:
        # Before the reopening the seats are counted again with each ticket, as they will be
        # bookable at the reopening: the last count before it stands if nobody comes after.
        line.seats = seats.line_seats(line=line, at=reopens_at)
        fields.append("seats")
        if line.early_for is not None:
            # The reopening was put off: the draw is made again then. (A process whose clock
            # is behind, once the draw is settled for this reopening, adds a later arrival.)
            line.early = line.early_for = None
            fields += ["early", "early_for"]
    if overflow:
        line.overflowed += 1
        lane_number, ahead = line.overflowed, 0
    else:
        # Within the bounds: after the tickets ahead of the last one within the bounds, and
        # after every place already in (overflow tickets let in before it stay ahead).
        lane_number = regular + 1
        line.ahead = ahead = max(line.ahead, min(admitted, line.issued) - regular)
    line.issued = number
    line.save(update_fields=fields)
    ticket = WaitingTicket.objects.create(
        line=line,
        number=number,
        overflow=overflow,
        lane_number=lane_number,
        ahead=ahead,
        created_at=Now(),  # the database's clock, for the record: the order is `number`
    )
    return ticket, line


@transaction.atomic
def line_rate_set(*, line_id: int, rate: float, now: datetime | None = None) -> WaitingLine:
    """Admit `rate` people per second from `now` on: those in already stay in, each with
    the moment it was let in (a segment is appended to the line's history, from the count
    reached at `now`), the rest come in at the new rate. 0 pauses the line: nobody new is
    let in, and nobody's admission is renewed."""
    if rate < 0 or not math.isfinite(rate):
        raise ValueError("rate must be a finite number, 0 or more")
    now = now or timezone.now()
    line = WaitingLine.objects.select_for_update().select_related("suspension").get(pk=line_id)
    reopens_at = line.suspension.reopens_at
    fields = ["rate", "segments"]
    if reopens_at is not None and now > reopens_at:
        reached = min(_reached(line, reopens_at, now), line.issued)
        at = (now - reopens_at).total_seconds()
        line.segments = [*_history(line), _segment(at=at, start=reached, base=reached, rate=rate)]
    else:
        line.segments = []  # nobody is in yet: the line starts at this rate
    line.rate = rate
    line.save(update_fields=fields)
    return line
