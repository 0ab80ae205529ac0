"""Booking without JavaScript: the server paces the booking form instead of the browser's
proof of work (protection.py), for browsers that do not run it (JavaScript off, Opera
Mini's server mode, a WebView without Web Crypto) or whose proof of work failed.

The form, rendered by the server, carries a pacing token: signed with a key derived from
SECRET_KEY, naming the moment it was issued and the network it was issued to (the /24 or
/48 of clients.hold_network). A booking accepts it

- once BOOKING_PACE_SECONDS have passed since its issue (a person takes longer than that
  to fill the form; one who is faster sees the form again, values kept, and sends it again);
- until BOOKING_PACE_MINUTES after its issue (tokens cannot be stockpiled for long);
- from the network it was issued to (tokens cannot be handed to a botnet);
- once: the booking that uses it remembers it in PostgreSQL, in its own statement, in the
  table of used proof-of-work challenges (appointments_usedchallenge, key "pace:<nonce>"),
  with Redis up or down.

Tokens are issued at most BOOKING_PACE_RATE per address and BOOKING_PACE_NETWORK_RATE per
network (Redis counts, core.clients; past them the form has no token and a booking without
JavaScript is refused until the budget comes back). What a bot gains by skipping the proof
of work is what a person gets: a few bookings per network, each after a wait, and each
still bounded like any hold (HOLDS_PER_NETWORK, one hold per identity, phone and mailbox:
services/holds.py), since both paths end in the same booking statement.
"""

import hashlib
import math
import secrets
import time

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core import clients
from core.errors import BadRequest

from .protection import ChallengeFailed, Solved

PACE_SALT = "appointments.pacing"
PACE_GROUP = "pace"
PACE_NETWORK_GROUP = "pace-network"
TOKEN_MAX_LENGTH = 200
USED_PREFIX = "pace:"  # its key among the used challenges (a challenge's is 64 hex digits)
# A token issued this far in the future was not issued by a clock of ours.
CLOCK_SKEW_SECONDS = 60


class PaceTooEarly(BadRequest):
    """The form was sent sooner after it was shown than a person fills it in."""

    code = "pace_too_early"
    default_detail = _(
        "Le formulaire a été envoyé très vite. Vérifiez vos informations, puis envoyez-le "
        "à nouveau."
    )


def _signer() -> signing.Signer:
    return signing.Signer(salt=PACE_SALT, algorithm="sha256")


def _network_tag(network: str) -> str:
    # Short, and the address's network kept out of the page's source.
    return hashlib.sha256(f"{PACE_SALT}:{network}".encode()).hexdigest()[:12]


def pace_token(*, network: str, now: float | None = None) -> str:
    """A fresh token for the network `network` (no bound counted: pace_issue counts)."""
    issued = int(time.time() if now is None else now)
    return _signer().sign(f"{secrets.token_urlsafe(12)}.{issued}.{_network_tag(network)}")


def pace_issue(request: HttpRequest) -> str:
    """A token for the form this request shows; "" when the address or its network has had
    its tokens already (or when the booking's protection is off: none is needed)."""
    if not settings.BOOKING_CHALLENGE:
        return ""
    if clients.rate_limited(request, group=PACE_GROUP, rate=settings.BOOKING_PACE_RATE):
        return ""
    if clients.rate_limited(
        request,
        group=PACE_NETWORK_GROUP,
        rate=settings.BOOKING_PACE_NETWORK_RATE,
        per_network=True,
    ):
        return ""
    return pace_token(network=clients.hold_network(request))


def _read(token: object, *, network: str, now: float) -> tuple[str, int]:
    """The nonce and issue time of a token signed by us for `network`, not lapsed;
    ChallengeFailed otherwise."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise ChallengeFailed()
    try:
        nonce, issued, tag = _signer().unsign(token).split(".")
        issued_at = int(issued)
    except (signing.BadSignature, ValueError):
        raise ChallengeFailed() from None
    lapsed = now - issued_at > settings.BOOKING_PACE_MINUTES * 60
    if tag != _network_tag(network) or lapsed or issued_at > now + CLOCK_SKEW_SECONDS:
        raise ChallengeFailed()
    return nonce, issued_at


def pace_check(token: object, *, network: str, now: float | None = None) -> Solved:
    """The token as a solution the booking uses up (like a solved challenge); raises
    ChallengeFailed (not ours, another network's, lapsed) or PaceTooEarly (with `wait`,
    the seconds left). Its single use is the booking statement's (USED_CHALLENGE)."""
    now = time.time() if now is None else now
    nonce, issued_at = _read(token, network=network, now=now)
    wait = issued_at + settings.BOOKING_PACE_SECONDS - now
    if wait > 0:
        raise PaceTooEarly(wait=math.ceil(wait))
    return Solved(
        signature=USED_PREFIX + nonce,
        expires_at=float(issued_at + settings.BOOKING_PACE_MINUTES * 60),
    )


def pace_reusable(token: object, *, network: str) -> bool:
    """Whether a posted token may be sent again with the form shown anew (signed by us for
    this network, not lapsed; used or not, the booking decides)."""
    try:
        _read(token, network=network, now=time.time())
    except ChallengeFailed:
        return False
    return True
