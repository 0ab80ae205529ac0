"""Bot protection of booking, shared by the API and the HTML booking form.

Two layers, neither calling a third party:

- a proof-of-work challenge (altcha, protocol v1: the browser or API client finds the
  number whose SHA-256 with the salt gives the challenge). Challenges are signed with a key
  derived from SECRET_KEY and bound to their use: each names it (`use=booking`, signed
  with the rest), expires after CHALLENGE_TTL (2 minutes: solved challenges cannot be
  stockpiled ahead of a reopening), and is accepted once, for one booking: its signature is
  remembered in PostgreSQL until it expires. An address gets at most
  BOOKING_CHALLENGE_RATE challenges.
- per-IP rate limits counted in Redis (core.clients, django-ratelimit's core).

The difficulty, BOOKING_CHALLENGE_MAX_NUMBER (20,000 by default), is what a phone pays: it
tries on average half that many SHA-256 hashes, at most all of them. The booking form's
script in chromium with its CPU slowed 4x (a cheap phone) computes about 33,000 hashes a
second (bench/slow_phone.py): 0.3 s on average, 0.6 s at worst, which keeps a whole booking
on slow 3G under 6 s; 100,000 (the former default) cost 1.5 s on average, 3 s at worst, and
missed it. A bot hashing natively does it in a fraction of that: the proof of work slows bots
down a little, and what bounds them is the rest: one challenge per booking and
BOOKING_CHALLENGE_RATE per address, the bounds on holds (per identity, phone, mailbox and
network), contact verification; the pacing token of browsers without JavaScript
(pacing.py) is bounded the same way.

Both are turned off by settings (BOOKING_CHALLENGE, RATE_LIMITS) for benchmarks and for
tests of other behaviour.
"""

import base64
import binascii
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from altcha import v1 as altcha
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from .models import UsedChallenge

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
