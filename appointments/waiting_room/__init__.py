"""The waiting room at a reopening: a fair line instead of a race to click first.

For WAITING_ROOM_MINUTES before and after the reopening of a suspension that covers an
office (its `reopens_at`; eligibility.suspensions_around and ScopedSuspension.covers say
which), booking there needs an admission. Outside that window nothing changes. The window
starts no earlier than the suspension itself.

- **Tickets.** An arrival gets a ticket in the office's line (WaitingLine, one per office
  and suspension). The HTML page keeps a browser's in an HttpOnly cookie and hands the same
  one back; the API (no CSRF) neither reads nor sets cookies: its client keeps the ticket
  from the body. Past WAITING_ROOM_PER_ADDRESS per address (clients.client_ip: an
  IPv4 address or the /64 of IPv6), or WAITING_ROOM_PER_NETWORK per /24 IPv4 or /48 IPv6
  network (clients.hold_network), a ticket is still given, at the back of the line (its
  own lane: after every ticket within the bounds, except those that arrive once it was let
  in); past 16 times the address's bound, 429. Both are counted in PostgreSQL by upserts
  on counter rows (WaitingNetwork), so the bounds hold under any concurrency. The ticket's
  credential is signed (its own salt): nobody can forge one, and the number shown to a
  person is not it.
- **The draw.** The early arrivals within the bounds are ordered, at `reopens_at`, by
  HMAC(key derived from SECRET_KEY, ticket id): a random order that nobody can compute from
  their ticket, and in which arriving at 07:29:59 or holding many tickets gains nothing
  over arriving at 07:05. Who is early is settled under the line's row lock by the first
  ticket issued at or after `reopens_at` (every ticket numbered before it, none after), so
  every process finds the same positions whatever its clock and cache. Before `reopens_at`
  no position is shown, only that the order is drawn then. Later arrivals follow in their
  order of arrival.
- **Admissions.** At most `base + rate x (now - since)` people are in at `now`, segment
  after segment of the line's history (from `reopens_at`; one more when an administrator
  changes the rate, line_rate_set, or when an arrival finds the line empty: the idle time
  is not banked, the arrival is in at once, the one after it 1/rate seconds later), and no
  more than seats allow (below). Nothing is written per admission: a refresh reads one row
  (and, once a second per process, the seats) and writes nothing. Each place's admission
  time is the moment it really came in, computed from the history: a new segment renews
  nobody's admission, and a paused line (rate 0) lets nobody new in. An admission is a
  signed token naming the office, the suspension, the ticket and that moment; it is good
  for ADMISSION_MINUTES from it, however often it is fetched again.
- **Seats.** Nobody is let in for whom no seat is left (seats.py): each admitted place keeps
  a seat until it books, or for WAITING_ROOM_GRACE_SECONDS if it does not (then the seat
  goes back to the line), so those admitted never race each other for the last seats. A
  place waiting for a seat is told so (`seats_left` 0), and comes in when one comes back.
- **The check.** admission_check() is the one gate, called by the booking form and by
  POST /api/v1/bookings/: in a window, no valid admission (header X-Admission, or the
  browser's cookie together with its own ticket cookie) answers `admission_required`.
"""

from .check import admission_check
from .moments import grace_seconds
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
    "grace_seconds",
    "line_figures",
    "line_rate_set",
    "place_of",
    "ticket_cookie",
    "ticket_issue",
    "window_at",
    "windows_around",
]
