"""The codes of contact verification (services/verification.py): how long a hold waits
for its code, how many tries it allows, how a code is drawn and how it is stored."""

import secrets
from datetime import timedelta

from django.utils.crypto import salted_hmac

HOLD_DURATION = timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 3  # also the check constraint appointment_code_attempts_max


def new_code() -> str:
    """A 6-digit code from the OS's random source."""
    return f"{secrets.randbelow(10**6):06d}"


def hash_code(*, reference: str, code: str) -> str:
    """The code as stored: an HMAC under a key derived from SECRET_KEY, salted with the
    booking's reference. A plain hash of one of a million codes would be reversed at once
    from a copy of the database; this one cannot be without the key."""
    return salted_hmac(
        "appointments.verification", f"{reference}:{code}", algorithm="sha256"
    ).hexdigest()
