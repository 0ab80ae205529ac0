"""Where a place stands, computed from the time and one read: the draw of the early
arrivals, the admissions counted from the rate, the refreshes; and the dashboard's figures.
Nothing here writes."""

import math
from bisect import bisect_left, bisect_right
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from epassport.errors import NotFound

from ..models import WaitingLine, WaitingTicket
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


def _admitted_count(line: WaitingLine, reopens_at: datetime, now: datetime) -> int:
    """How many of the line are in at `now`: base + rate x (now - since), none before the
    reopening."""
    if now < reopens_at:
        return 0
    since = line.since or reopens_at
    elapsed = max(0.0, (now - since).total_seconds())
    return line.base + math.floor(line.rate * elapsed)


def admitted_now(*, line: WaitingLine, now: datetime | None = None) -> int:
    """How many of the line's places are in now (the admin's and the dashboard's figure)."""
    reopens_at = line.suspension.reopens_at
    if reopens_at is None:
        return 0
    return min(line.issued, _admitted_count(line, reopens_at, now or timezone.now()))


def _admitted_at(line: WaitingLine, reopens_at: datetime, position: int) -> datetime:
    """When the person at `position` was let in (at the last re-basing, for those in before
    it)."""
    since = line.since or reopens_at
    if position <= line.base or line.rate <= 0:
        return since
    return since + timedelta(seconds=(position - line.base) / line.rate)


def _draw_key(ticket_id: int) -> bytes:
    # A key of its own derived from SECRET_KEY: knowing a ticket's id tells nothing of its
    # rank, and nothing here helps to guess other keys of the portal.
    return salted_hmac(DRAW_SALT, str(ticket_id), algorithm="sha256").digest()


@dataclass(frozen=True)
class _Draw:
    keys: list[bytes]  # the early tickets' draw keys, in draw order
    numbers: list[int]  # their arrival numbers, ascending


# The draw of each line, per process: the early tickets do not change after the reopening,
# so the order is read once (one query) and positions are then found in memory. Built in the
# first seconds after the reopening it is kept only briefly, for a request that arrived just
# before the reopening and commits just after.
DRAW_SETTLE = timedelta(seconds=5)
_draws: dict[tuple, tuple[datetime, _Draw]] = {}


def _draw(line_id: int, reopens_at: datetime, now: datetime) -> _Draw:
    key = (line_id, reopens_at, settings.SECRET_KEY)
    hit = _draws.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    rows = WaitingTicket.objects.filter(line_id=line_id, created_at__lt=reopens_at)
    rows = list(rows.values_list("pk", "number"))
    draw = _Draw(
        keys=sorted(_draw_key(pk) for pk, _number in rows),
        numbers=sorted(number for _pk, number in rows),
    )
    settled = now >= reopens_at + DRAW_SETTLE
    if len(_draws) > 200:
        _draws.clear()
    _draws[key] = (now + (timedelta(hours=1) if settled else timedelta(seconds=0.5)), draw)
    return draw


def forget_draws() -> None:
    """Drop the per-process draws (tests that change SECRET_KEY or travel in time)."""
    _draws.clear()


def draw_order(*, line_id: int, reopens_at: datetime) -> list[int]:
    """The ids of the line's early tickets in their drawn order (for tests and audits)."""
    ids = WaitingTicket.objects.filter(line_id=line_id, created_at__lt=reopens_at)
    return sorted(ids.values_list("pk", flat=True), key=_draw_key)


def _position(ticket: WaitingTicket, reopens_at: datetime, now: datetime) -> int:
    draw = _draw(ticket.line_id, reopens_at, now)
    if ticket.created_at < reopens_at:
        key = _draw_key(ticket.pk)
        rank = bisect_left(draw.keys, key)
        if rank == len(draw.keys) or draw.keys[rank] != key:  # committed after the read
            forget_draws()
            draw = _draw(ticket.line_id, reopens_at, now)
            rank = bisect_left(draw.keys, key)
        return rank + 1
    # Later arrivals: after every early ticket, in their order of arrival.
    return len(draw.keys) + ticket.number - bisect_right(draw.numbers, ticket.number)


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
    position = _position(ticket, reopens_at, now)
    admitted = _admitted_count(line, reopens_at, now)
    if position <= admitted:
        at = _admitted_at(line, reopens_at, position)
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
        )
    wait = math.ceil((position - admitted) / line.rate) if line.rate > 0 else None
    return Place(
        State.WAITING,
        ticket=credential,
        number=ticket.number,
        position=position,
        estimated_wait_seconds=wait,
        reopens_at=reopens_at,
        refresh_seconds=_refresh((wait or REFRESH_MAX_SECONDS) / 3 + _jitter(ticket.pk) / 2),
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
