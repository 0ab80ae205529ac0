"""Where a place stands, computed from the time and one read: the draw of the early
arrivals, the admissions counted from the rate, the refreshes; and the dashboard's figures.
Nothing here writes."""

import math
from bisect import bisect_left
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from core.errors import NotFound

from ..models import WaitingLine, WaitingTicket
from . import seats
from .tokens import (
    DRAW_SALT,
    REFRESH_MAX_SECONDS,
    REFRESH_MIN_SECONDS,
    TICKET_SALT,
    AdmissionExpired,
    _admission,
    _ticket_credential,
    _unsign,
)
from .window import window_minutes


class State(StrEnum):
    OPEN = "open"  # no window (any more): booking needs no admission
    BEFORE = "before"  # before the reopening: the order is drawn then
    WAITING = "waiting"
    ADMITTED = "admitted"


@dataclass(frozen=True)
class Place:
    """What a person in the line is told: the API's answer and the waiting page's."""

    state: State
    ticket: str | None = None  # the credential (secret to its holder)
    number: int | None = None  # arrival number, shown on the page (worth nothing alone)
    position: int | None = None
    estimated_wait_seconds: int | None = None
    admission: str | None = None
    reopens_at: datetime | None = None
    refresh_seconds: int = REFRESH_MAX_SECONDS
    # Seats neither taken nor kept for someone already admitted (seats.py): 0 while waiting
    # means no seat for this place now. None before the reopening and outside a window.
    seats_left: int | None = None
    no_seat: bool = False  # waiting for a seat to come back, not for the rate
    free_seats: int | None = None  # the office's free seats (kept or not)
    # How long an admitted place keeps its seat without booking (this one's, once admitted).
    grace_seconds: int | None = None


@dataclass(frozen=True)
class _Segment:
    at: float  # seconds after the reopening
    start: int  # places in before it (admitted by the segments before)
    base: int  # places in at its start
    rate: float


def _segments(line: WaitingLine) -> list[_Segment]:
    if not line.segments:
        return [_Segment(at=0.0, start=0, base=0, rate=line.rate)]
    return [
        _Segment(at=s["at"], start=s["start"], base=s["base"], rate=s["rate"])
        for s in line.segments
    ]


def _reached(line: WaitingLine, reopens_at: datetime, now: datetime) -> int:
    """The count of the line's segment in force at `now`: base + rate x (now - since), none
    before the reopening (more than the places issued once the line has emptied)."""
    if now < reopens_at:
        return 0
    elapsed = (now - reopens_at).total_seconds()
    segment = [s for s in _segments(line) if s.at <= elapsed][-1]
    return segment.base + math.floor(segment.rate * (elapsed - segment.at))


def admitted_now(*, line: WaitingLine, now: datetime | None = None) -> int:
    """How many of the line's places are in now (the admin's and the dashboard's figure): as
    many as the rate has reached, and no more than seats allow (seats.py)."""
    reopens_at = line.suspension.reopens_at
    now = now or timezone.now()
    if reopens_at is None or now < reopens_at:
        return 0
    return seats.gate(line=line, now=now, reopens_at=reopens_at).admitted


def _draw_key(ticket_id: int) -> bytes:
    # A key of its own derived from SECRET_KEY: knowing a ticket's id tells nothing of its
    # rank, and nothing here helps to guess other keys of the portal.
    return salted_hmac(DRAW_SALT, str(ticket_id), algorithm="sha256").digest()


def _early(line: WaitingLine, reopens_at: datetime) -> int:
    """How many tickets within the bounds are drawn: those issued before the first ticket
    issued at or after the reopening (settled under the line's lock), else, while nobody has
    come since the reopening, all of them."""
    if line.early is not None and line.early_for == reopens_at:
        return line.early
    return line.issued - line.overflowed


# The draw of each line, per process: the early tickets within the bounds are those of lane
# number 1 to `early`, given under the line's lock, so a draw read for a count never changes:
# it is kept under that count, and every process finds the same order for the same count.
# With it, each drawn ticket's place (seats.py looks up those that booked).
_draws: dict[tuple, tuple[list[bytes], dict[int, int]]] = {}


def _drawn(line_id: int, early: int) -> tuple[list[bytes], dict[int, int]]:
    """The draw keys of the line's `early` first tickets within the bounds, in draw order,
    and {ticket id: its place in that order}."""
    key = (line_id, early, settings.SECRET_KEY)
    hit = _draws.get(key)
    if hit is not None:
        return hit
    rows = WaitingTicket.objects.filter(
        line_id=line_id, overflow=False, lane_number__lte=early
    ).values_list("pk", flat=True)
    ordered = sorted((_draw_key(pk), pk) for pk in rows)
    drawn = ([k for k, _pk in ordered], {pk: i for i, (_k, pk) in enumerate(ordered, start=1)})
    if len(_draws) > 200:
        _draws.clear()
    _draws[key] = drawn
    return drawn


def _draw(line_id: int, early: int) -> list[bytes]:
    """The draw keys of the line's `early` first tickets within the bounds, in draw order."""
    return _drawn(line_id, early)[0]


def forget_draws() -> None:
    """Drop the per-process draws and seat counts (tests that change SECRET_KEY, travel in
    time or book between two looks at a place)."""
    _draws.clear()
    seats.forget_gates()


def draw_order(*, line_id: int, reopens_at: datetime) -> list[int]:
    """The ids of the line's early tickets in their drawn order (for tests and audits)."""
    line = WaitingLine.objects.get(pk=line_id)
    ids = WaitingTicket.objects.filter(
        line_id=line_id, overflow=False, lane_number__lte=_early(line, reopens_at)
    )
    return sorted(ids.values_list("pk", flat=True), key=_draw_key)


def _position(ticket: WaitingTicket, line: WaitingLine, reopens_at: datetime) -> int:
    if ticket.overflow:
        # After every ticket within the bounds, except those that arrived once it was in.
        if ticket.lane_number > line.ahead:
            before = line.issued - line.overflowed
        else:
            before = WaitingTicket.objects.filter(
                line_id=line.pk, overflow=False, ahead__lt=ticket.lane_number
            ).count()
        return ticket.lane_number + before
    early = _early(line, reopens_at)
    if ticket.lane_number <= early:
        return bisect_left(_draw(line.pk, early), _draw_key(ticket.pk)) + 1
    # Later arrivals: after every early ticket, in their order of arrival.
    return ticket.lane_number + ticket.ahead


def _jitter(ticket_id: int) -> int:
    # Spreads the refreshes of the crowd that arrived early over a few seconds after the
    # reopening, instead of all in its first second.
    return 1 + ticket_id % 7


def _refresh(seconds: float) -> int:
    return int(min(REFRESH_MAX_SECONDS, max(REFRESH_MIN_SECONDS, seconds)))


def _place(ticket: WaitingTicket, line: WaitingLine, *, office_id: int, now: datetime) -> Place:
    """The place of a ticket at `now`; raises AdmissionExpired when its turn has come and
    gone more than ADMISSION_MINUTES ago."""
    suspension = line.suspension
    reopens_at = suspension.reopens_at
    credential = _ticket_credential(ticket, office_id)
    if reopens_at is None or now < reopens_at - window_minutes():
        # The reopening was put off: the ticket waits for the new date.
        return Place(State.BEFORE, ticket=credential, number=ticket.number, reopens_at=reopens_at)
    if now >= reopens_at + window_minutes():
        return _open(office_id=office_id, now=now)
    if now < reopens_at:
        to_go = (reopens_at - now).total_seconds()
        return Place(
            State.BEFORE,
            ticket=credential,
            number=ticket.number,
            estimated_wait_seconds=math.ceil(to_go),
            reopens_at=reopens_at,
            refresh_seconds=_refresh(
                to_go + _jitter(ticket.pk) if to_go < REFRESH_MAX_SECONDS else to_go
            ),
        )
    position = _position(ticket, line, reopens_at)
    gate = seats.gate(line=line, now=now, reopens_at=reopens_at)
    if position <= gate.admitted:
        at = reopens_at + timedelta(seconds=gate.moments[position - 1])
        if now >= at + timedelta(minutes=settings.ADMISSION_MINUTES):
            raise AdmissionExpired()
        return Place(
            State.ADMITTED,
            ticket=credential,
            number=ticket.number,
            position=position,
            estimated_wait_seconds=0,
            admission=_admission(
                office_id=office_id, suspension_id=suspension.pk, ticket_id=ticket.pk, at=at
            ),
            reopens_at=reopens_at,
            seats_left=gate.seats_left,
            free_seats=gate.free,
            grace_seconds=math.ceil(gate.graces[position - 1]),
        )
    if position > gate.admitted + gate.seats_left:
        # No seat for this place now: it comes in when enough seats come back (admissions
        # not used within their grace, holds that lapse, cancellations), which nobody can
        # promise; the page is asked again when the next one is due.
        due = seats.refresh_after(gate, (now - reopens_at).total_seconds())
        return Place(
            State.WAITING,
            ticket=credential,
            number=ticket.number,
            position=position,
            estimated_wait_seconds=None,
            reopens_at=reopens_at,
            refresh_seconds=_refresh(
                (due if due is not None else REFRESH_MAX_SECONDS) + _jitter(ticket.pk)
            ),
            seats_left=0,
            no_seat=True,
            free_seats=gate.free,
            grace_seconds=math.ceil(gate.grace),
        )
    wait = math.ceil(max(1, position - gate.admitted) / line.rate) if line.rate > 0 else None
    return Place(
        State.WAITING,
        ticket=credential,
        number=ticket.number,
        position=position,
        estimated_wait_seconds=wait,
        reopens_at=reopens_at,
        refresh_seconds=_refresh((wait or REFRESH_MAX_SECONDS) / 3 + _jitter(ticket.pk) / 2),
        seats_left=gate.seats_left,
        free_seats=gate.free,
        grace_seconds=math.ceil(gate.grace),
    )


def _open(*, office_id: int, now: datetime) -> Place:
    """No waiting room: an admission at once (of no ticket, so it opens no window)."""
    return Place(
        State.OPEN,
        position=0,
        estimated_wait_seconds=0,
        admission=_admission(office_id=office_id, suspension_id=None, ticket_id=None, at=now),
    )


def place_of(*, credential: str | None, office_id: int, now: datetime | None = None) -> Place:
    """The place the ticket `credential` holds in the office's line, at `now`: one read, no
    write. NotFound for a forged, altered or unknown ticket, or one of another office;
    AdmissionExpired when its turn is long gone."""
    now = now or timezone.now()
    data = _unsign(credential, salt=TICKET_SALT)
    if data is None or data.get("o") != office_id:
        raise NotFound(_("Place inconnue dans la salle d’attente."))
    ticket = (
        WaitingTicket.objects.select_related("line__suspension")
        .filter(pk=data.get("t"), line_id=data.get("l"), line__office_id=office_id)
        .first()
    )
    if ticket is None:
        raise NotFound(_("Place inconnue dans la salle d’attente."))
    return _place(ticket, ticket.line, office_id=office_id, now=now)


# The dashboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFigures:
    line: WaitingLine
    reopens_at: datetime | None
    issued: int
    admitted: int
    open_now: bool

    @property
    def waiting(self) -> int:
        return self.issued - self.admitted


def line_figures(
    *, office_ids: Collection[int] | None, now: datetime | None = None
) -> dict[int, list[LineFigures]]:
    """{office id: its lines} whose window is open now or closed less than a day ago, of
    `office_ids` (every office when None): one query."""
    now = now or timezone.now()
    lines = WaitingLine.objects.select_related("suspension", "office").filter(
        suspension__reopens_at__gte=now - window_minutes() - timedelta(days=1)
    )
    if office_ids is not None:
        lines = lines.filter(office_id__in=office_ids)
    figures: dict[int, list[LineFigures]] = {}
    for line in lines.order_by("suspension__reopens_at", "pk"):
        reopens_at = line.suspension.reopens_at
        admitted = admitted_now(line=line, now=now)
        figures.setdefault(line.office_id, []).append(
            LineFigures(
                line=line,
                reopens_at=reopens_at,
                issued=line.issued,
                admitted=admitted,
                open_now=reopens_at - window_minutes() <= now < reopens_at + window_minutes(),
            )
        )
    return figures
