"""The waiting room at a reopening: a fair line instead of a race to click first.

For WAITING_ROOM_MINUTES before and after the reopening of a suspension that covers an
office (its `reopens_at`; eligibility.suspensions_around and ScopedSuspension.covers say
which), booking there needs an admission. Outside that window nothing changes. The window
starts no earlier than the suspension itself.

- **Tickets.** An arrival gets a ticket in the office's line (WaitingLine, one per office
  and suspension): one per browser (the HTML page and the API keep it in an HttpOnly
  cookie and hand the same one back), and at most WAITING_ROOM_PER_NETWORK per /24 IPv4 or
  /48 IPv6 network (protection.hold_network), counted in PostgreSQL by a conditional upsert
  (WaitingNetwork), so the bound holds under any concurrency. The ticket's credential is
  signed (its own salt): nobody can forge one, and the number shown to a person is not it.
- **The draw.** Arrivals before `reopens_at` are ordered, at `reopens_at`, by
  HMAC(key derived from SECRET_KEY, ticket id): a random order that nobody can compute from
  their ticket, and in which arriving at 07:29:59 or holding many tickets gains nothing
  over arriving at 07:05. Before `reopens_at` no position is shown, only that the order is
  drawn then. Later arrivals follow in their order of arrival.
- **Admissions.** `base + rate x (now - since)` people are in at `now` (since `reopens_at`
  until an administrator changes the rate, which re-bases: line_rate_set). Nothing is
  written per admission: a refresh reads one row and writes nothing. A line that had
  emptied does not bank the idle time: the next arrival re-bases it (it is in at once, the
  one after it 1/rate seconds later). An admission is a signed token naming the office,
  the suspension, the ticket and the moment it was admitted; it is good for
  ADMISSION_MINUTES from that moment, however often it is fetched again.
- **The check.** admission_check() is the one gate, called by the booking form and by
  POST /api/v1/bookings/: in a window, no valid admission (header X-Admission, or the
  browser's cookie together with its own ticket cookie) answers `admission_required`.
"""

from .check import admission_check
from .places import (
    LineFigures,
    Place,
    State,
    admitted_now,
    draw_order,
    forget_draws,
    line_figures,
    place_of,
)
from .services import line_rate_set, ticket_issue
from .tokens import (
    ADMISSION_HEADER,
    ADMISSION_SALT,
    DRAW_SALT,
    TICKET_SALT,
    AdmissionExpired,
    AdmissionRequired,
    WaitingRoomFullNetwork,
    admission_cookie,
    cookie_max_age,
    ticket_cookie,
)
from .window import Window, window_at, windows_around

__all__ = [
    "ADMISSION_HEADER",
    "ADMISSION_SALT",
    "DRAW_SALT",
    "TICKET_SALT",
    "AdmissionExpired",
    "AdmissionRequired",
    "LineFigures",
    "Place",
    "State",
    "WaitingRoomFullNetwork",
    "Window",
    "admission_check",
    "admission_cookie",
    "admitted_now",
    "cookie_max_age",
    "draw_order",
    "forget_draws",
    "line_figures",
    "line_rate_set",
    "place_of",
    "ticket_cookie",
    "ticket_issue",
    "window_at",
    "windows_around",
]
