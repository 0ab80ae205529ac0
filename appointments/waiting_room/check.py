"""The one gate of booking around a reopening, for the booking form and the booking API."""

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from ..models import Slot
from .tokens import (
    ADMISSION_HEADER,
    ADMISSION_SALT,
    TICKET_SALT,
    AdmissionRequired,
    _unsign,
    admission_cookie,
    ticket_cookie,
)
from .window import window_at, windows_around


def _slot_office_id(slot_id: object) -> int | None:
    if not isinstance(slot_id, int) or isinstance(slot_id, bool):
        return None
    return Slot.objects.filter(pk=slot_id).values_list("office_id", flat=True).first()


def admission_check(
    *,
    request: HttpRequest,
    office_id: int | None = None,
    slot_id: object = None,
    now: datetime | None = None,
) -> int | None:
    """The one gate of booking during a window: raises AdmissionRequired unless the request
    carries a valid admission for this office (given by `office_id`, or by the slot it
    books, `slot_id`). Outside every window it passes at once, after one query (the
    suspensions reopening within the window of now, whatever the office).

    Valid: signed by us, for this office and the suspension whose window it is, for a
    ticket, and less than ADMISSION_MINUTES since its holder was admitted. Read from the
    header X-Admission (the API), else from the browser's admission cookie, which must then
    name the ticket of the browser's own ticket cookie (a copied admission cookie alone is
    not enough).

    Returns the admission's ticket id within a window (the booking records it: one
    admission holds one seat at a time), None outside."""
    now = now or timezone.now()
    candidates = windows_around(now=now)
    if not candidates:
        return None
    if office_id is None:
        office_id = _slot_office_id(slot_id)
        if office_id is None:
            return None  # no such slot: the booking answers that
    window = window_at(office_id=office_id, now=now, candidates=candidates)
    if window is None:
        return None
    header = request.headers.get(ADMISSION_HEADER)
    data = _unsign(header or request.COOKIES.get(admission_cookie(office_id)), salt=ADMISSION_SALT)
    if (
        data is None
        or data.get("o") != office_id
        or data.get("s") != window.suspension.pk
        or not isinstance(data.get("t"), int)
        or not isinstance(data.get("a"), int)
        or now.timestamp() >= data["a"] + 60 * settings.ADMISSION_MINUTES
    ):
        raise AdmissionRequired()
    if not header:
        ticket = _unsign(request.COOKIES.get(ticket_cookie(office_id)), salt=TICKET_SALT)
        if ticket is None or ticket.get("t") != data["t"]:
            raise AdmissionRequired()
    return data["t"]
