"""The waiting room's writes: a new place (ticket) in a line, a line's rate."""

import math
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import WaitingLine, WaitingTicket
from .places import Place, _admitted_count, _open, _place
from .tokens import WaitingRoomFullNetwork
from .window import window_at

_LINE_INSERT = """
    INSERT INTO appointments_waitingline
        (office_id, suspension_id, rate, base, since, issued, created_at)
    VALUES (%s, %s, %s, 0, NULL, 0, %s)
    ON CONFLICT (office_id, suspension_id) DO NOTHING
"""
# One more ticket for the network, only while it has fewer than the bound: no row back
# means over it. Concurrent requests of one network queue on its row.
_NETWORK_TAKE = """
    INSERT INTO appointments_waitingnetwork AS n (line_id, network, tickets)
    VALUES (%s, %s, 1)
    ON CONFLICT (line_id, network) DO UPDATE SET tickets = n.tickets + 1
    WHERE n.tickets < %s
    RETURNING n.tickets
"""


@transaction.atomic
def ticket_issue(*, office_id: int, network: str, now: datetime | None = None) -> Place:
    """A new ticket in the office's line at `now`, from `network` (the /24 or /48 of the
    client, protection.hold_network). Outside a window no ticket is made: the place is
    OPEN with an admission. Raises WaitingRoomFullNetwork (with `retry_after`: until the
    window closes) when the network has its WAITING_ROOM_PER_NETWORK tickets already."""
    now = now or timezone.now()
    window = window_at(office_id=office_id, now=now)
    if window is None:
        return _open(office_id=office_id, now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            _LINE_INSERT,
            [office_id, window.suspension.pk, settings.WAITING_ROOM_RATE, timezone.now()],
        )
    line_id = WaitingLine.objects.values_list("pk", flat=True).get(
        office_id=office_id, suspension_id=window.suspension.pk
    )
    with connection.cursor() as cursor:
        cursor.execute(_NETWORK_TAKE, [line_id, network, settings.WAITING_ROOM_PER_NETWORK])
        if cursor.fetchone() is None:
            raise WaitingRoomFullNetwork(
                retry_after=max(1, math.ceil((window.closes_at - now).total_seconds()))
            )
    # The line's row lock gives the arrival numbers in order, without gaps.
    line = WaitingLine.objects.select_for_update().get(pk=line_id)
    line.suspension = window.suspension
    number = line.issued + 1
    fields = ["issued"]
    if now >= window.reopens_at and _admitted_count(line, window.reopens_at, now) >= number:
        # Everyone before is in already: start counting from here, so that the time the
        # line stood empty does not let a later crowd in all at once.
        line.base, line.since = number, now
        fields += ["base", "since"]
    line.issued = number
    line.save(update_fields=fields)
    ticket = WaitingTicket.objects.create(line=line, number=number, created_at=now)
    return _place(ticket, line, office_id=office_id, now=now)


@transaction.atomic
def line_rate_set(*, line_id: int, rate: float, now: datetime | None = None) -> WaitingLine:
    """Admit `rate` people per second from `now` on: those in already stay in (the count
    is re-based at `now`), the rest come in at the new rate. 0 pauses the line."""
    if rate < 0 or not math.isfinite(rate):
        raise ValueError("rate must be a finite number, 0 or more")
    now = now or timezone.now()
    line = WaitingLine.objects.select_for_update().select_related("suspension").get(pk=line_id)
    reopens_at = line.suspension.reopens_at
    fields = ["rate"]
    if reopens_at is not None and now > reopens_at:
        line.base, line.since = _admitted_count(line, reopens_at, now), now
        fields += ["base", "since"]
    line.rate = rate
    line.save(update_fields=fields)
    return line
