"""Bot protection of booking, shared by the API and the HTML booking form.

Two layers, neither calling a third party:

- a proof-of-work challenge (altcha, protocol v1: the browser or API client finds the
  number whose SHA-256 with the salt gives the challenge). Challenges are signed with a key
  derived from SECRET_KEY and bound to their use: each names it (`use=booking`, signed
  with the rest), expires after CHALLENGE_TTL (2 minutes: solved challenges cannot be
  stockpiled ahead of a reopening), and is accepted once, for one booking: its signature is
  remembered in PostgreSQL until it expires. An address gets at most
  BOOKING_CHALLENGE_RATE challenges.
- per-IP rate limits counted in Redis (django-ratelimit's core).

The difficulty, BOOKING_CHALLENGE_MAX_NUMBER (100,000 by default), is what a phone pays: it
tries on average half that many SHA-256 hashes, at most all of them. altcha publishes about
40,000 hashes a second for a mid-range phone's browser (Samsung Galaxy A14, 2023): about
1.3 s on average, 2.5 s at worst, mostly spent while the applicant fills the form. A bot
hashing natively does it in a fraction of that: the proof of work slows bots down, the
rate limits and contact verification stop them.

Both are turned off by settings (BOOKING_CHALLENGE, RATE_LIMITS) for benchmarks and for
tests of other behaviour.
"""

import base64
import binascii
import functools
import ipaddress
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from altcha import v1 as altcha
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from epassport.errors import DomainError

from .models import UsedChallenge

logger = logging.getLogger(__name__)

CHALLENGE_TTL = timedelta(minutes=2)
CHALLENGE_ALGORITHM = altcha.SHA256
CHALLENGE_USE = "booking"  # the one use of a challenge, signed into it
# A payload is a base64 JSON of five short fields: anything much longer is not one.
PAYLOAD_MAX_LENGTH = 2000

# Rate limit groups: the API and the HTML pages share them, so that one address has one
# budget whichever door it uses.
BOOKING_GROUP = "booking"
AVAILABILITY_GROUP = "availability"
CHALLENGE_GROUP = "challenge"


class ChallengeFailed(DomainError):
    code = "challenge_failed"
    status = 400
    default_detail = _(
        "La vérification anti-robots a échoué ou a expiré. Rechargez la page et réessayez."
    )


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_detail = _("Trop de demandes depuis votre connexion. Réessayez dans une minute.")


# Proof of work -----------------------------------------------------------------------------


def _hmac_key() -> str:
    # A key of its own, derived from SECRET_KEY: a leaked challenge signature says nothing
    # about the keys of sessions, password resets or manage tokens.
    return salted_hmac(
        "appointments.protection.altcha", "challenge", algorithm="sha256"
    ).hexdigest()


def challenge_create() -> dict:
    """A fresh challenge, as the altcha widget and API clients fetch it."""
    challenge = altcha.create_challenge(
        algorithm=CHALLENGE_ALGORITHM,
        max_number=settings.BOOKING_CHALLENGE_MAX_NUMBER,
        salt_length=altcha.DEFAULT_SALT_LENGTH,
        hmac_key=_hmac_key(),
        salt="",
        number=None,
        expires=timezone.now() + CHALLENGE_TTL,
        params={"use": CHALLENGE_USE},
    )
    # The field names of the altcha protocol (altcha-lib, the widget): `maxnumber`.
    return {
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "maxnumber": challenge.max_number,
        "salt": challenge.salt,
        "signature": challenge.signature,
    }


def _decode(payload: object) -> dict | None:
    """The solution a client sends (base64 of a JSON object), or None if it is not one.

    Checked here, field by field, because the library trusts the shape of what it decodes
    (an integer salt or a JSON list would raise instead of answering False)."""
    if not isinstance(payload, str) or not payload or len(payload) > PAYLOAD_MAX_LENGTH:
        return None
    try:
        data = json.loads(base64.b64decode(payload, validate=True).decode())
    except (ValueError, binascii.Error):  # UnicodeDecodeError and JSONDecodeError included
        return None
    if not isinstance(data, dict):
        return None
    if data.get("algorithm") != CHALLENGE_ALGORITHM:
        return None
    if not all(isinstance(data.get(key), str) for key in ("challenge", "salt", "signature")):
        return None
    number = data.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        return None
    return {key: data[key] for key in ("algorithm", "challenge", "number", "salt", "signature")}


def _expires_at(solution: dict) -> float | None:
    expires = altcha.extract_params(solution).get("expires")
    try:
        return float(expires[0]) if expires else None
    except ValueError:
        return None


def _made_for_booking(solution: dict) -> bool:
    return altcha.extract_params(solution).get("use") == [CHALLENGE_USE]


def challenge_verify(payload: str | None) -> None:
    """Accept a solved challenge once; raise ChallengeFailed when it is missing, malformed,
    wrong, expired, made for another use or already used. Does nothing when
    BOOKING_CHALLENGE is off."""
    solved = challenge_check(payload)
    if solved is not None:
        challenge_use(solved)


@dataclass(frozen=True)
class Solved:
    """A solution checked by challenge_check, not used yet."""

    signature: str
    expires_at: float


def challenge_check(payload: str | None) -> Solved | None:
    """Check a solved challenge without using it up (ChallengeFailed when it is missing,
    malformed, wrong, expired or made for another use); None when BOOKING_CHALLENGE is off.
    The booking uses it up (challenge_use) in its own transaction, so that a request
    refused (the slot full meanwhile, a bound on holds) leaves the solution good for the
    next try: a person on a slow phone solves once per seat taken, not once per refusal."""
    if not settings.BOOKING_CHALLENGE:
        return None
    solution = _decode(payload)
    if solution is None or not _made_for_booking(solution):
        raise ChallengeFailed()
    expires_at = _expires_at(solution)
    # Every challenge we sign carries an expiry; one without it was not made here.
    if expires_at is None or expires_at <= time.time():
        raise ChallengeFailed()
    ok, _error = altcha.verify_solution(solution, _hmac_key(), check_expires=True)
    if not ok:
        raise ChallengeFailed()
    return Solved(signature=solution["signature"][:128], expires_at=expires_at)


_FIRST_USE = """
    INSERT INTO appointments_usedchallenge (signature, expires_at)
    VALUES (%s, to_timestamp(%s)) ON CONFLICT (signature) DO NOTHING
"""


def challenge_use(solved: Solved) -> None:
    """Use a checked solution up, in the caller's transaction if any (the booking's: a
    booking rolled back leaves it unused); ChallengeFailed when it was used already. Replay
    is refused by PostgreSQL, a row whose key is the signature, with Redis up or down; two
    uses at once wait on its unique index and the second finds it taken. Kept until the
    challenge has expired, after which the expiry refuses it (challenges_purge)."""
    # No savepoint inside the booking's transaction: a failure here ends the booking anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_FIRST_USE, [solved.signature, solved.expires_at])
        if cursor.rowcount != 1:
            raise ChallengeFailed()


def challenges_purge(*, now: datetime | None = None) -> int:
    """Forget the used challenges that have expired (refused by their expiry anyway);
    returns how many. Run with the holds' expiry."""
    return UsedChallenge.objects.filter(expires_at__lt=now or timezone.now()).delete()[0]


# Rate limits -------------------------------------------------------------------------------


def _network_key(address: str) -> str | None:
    """The address as a rate limit key: an IPv4 address, or the /64 of an IPv6 address (one
    subscriber usually holds a whole /64). None when it is not an address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:198.51.100.7 is 198.51.100.7
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def client_address(request: HttpRequest) -> str:
    """The client's address, as every per-address rule takes it (the rate limits, the holds'
    and the waiting room's bounds, the login lockout, the metrics check): "" when unknown.

    TRUSTED_PROXY_COUNT says how many proxies of ours stand in front of the portal, each
    appending the address it received the request from to X-Forwarded-For:

    - 0: nobody; REMOTE_ADDR is the client and X-Forwarded-For is the client's own words;
    - 1: our reverse proxy; the client is the last hop (the one it wrote);
    - 2: a CDN, then our proxy; the client is the second to last (the CDN's), and so on.

    The header is read only when the connection comes from one of TRUSTED_PROXIES (CIDR
    list): where gunicorn can be reached without the proxy, a client sending the header
    itself is the client. Hops further left were sent by the client, who could change them
    at will to escape a limit: they are never read. A header shorter than the proxies we
    expect, or whose hop is not an address, means the request did not come through them:
    the connection's address is taken then."""
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0 and _from_trusted_proxy(remote):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= trusted and _is_address(hops[-trusted]):
            return hops[-trusted]
    return remote


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _from_trusted_proxy(remote: str) -> bool:
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in trusted_proxies())


def trusted_proxies() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _parsed_networks(tuple(settings.TRUSTED_PROXIES))


@functools.lru_cache(maxsize=8)
def _parsed_networks(entries: tuple[str, ...]):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_ip(group: str, request: HttpRequest) -> str:
    """The key of the client's budgets (a django-ratelimit key function: `(group,
    request)`): its address (client_address), the /64 of an IPv6 one."""
    address = client_address(request)
    return _network_key(address) or address or "unknown"


def hold_network(request: HttpRequest) -> str:
    """The network the request comes from, as the bounds on holds and waiting-room tickets
    count it: the /24 of an IPv4 address, the /48 of an IPv6 one (what one subscriber, or
    one small hosting customer, can easily spread over); "" when the address is unknown."""
    return _network_of(client_ip("", request))


@functools.lru_cache(maxsize=4096)
def _network_of(key: str) -> str:
    # Kept per process: in a rush the same addresses come back many times a minute, and
    # each parse builds two address objects (bounded: a bot's many addresses only push the
    # oldest out).
    try:
        ip = ipaddress.ip_address(key)
    except ValueError:
        return ""
    prefix = 24 if isinstance(ip, ipaddress.IPv4Address) else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def rate_limited(request: HttpRequest, *, group: str, rate: str) -> bool:
    """Count this request against the address's budget for `group`; True when over it.

    Always False when RATE_LIMITS is off. When Redis cannot be reached the request passes
    (and a warning is logged): closing booking to everybody would be worse."""
    if not settings.RATE_LIMITS:
        return False
    try:
        return is_ratelimited(request, group=group, key=client_ip, rate=rate, increment=True)
    except (RedisError, OSError):
        logger.warning("rate limit %s skipped: cache unreachable", group, exc_info=True)
        return False
