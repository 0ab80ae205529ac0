"""The bounds on pending holds that the booking statement does not keep by itself: which
unique index refused a hold and what it bounds, the lapsed holds expired on the spot when a
bound is spent, the answer with its Retry-After, and the holder of a booking told that its
code was guessed at (the wrong codes are counted in the statement). The bounds themselves are
in PostgreSQL (book.sql, migration 0012); this names them.
"""

from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from .. import notifications, transitions
from ..errors import TooManyHolds
from ..models import Appointment

# The bounds of one pending hold per identity number, phone number and mailbox: the unique
# index that refused a hold, and the column it bounds (the booking statement's parameter).
ONE_HOLD_PER = {
    "appointment_one_hold_per_identity": ("national_id", "national_id"),
    "appointment_one_hold_per_phone": ("phone", "phone"),
    "appointment_one_hold_per_email": ("email_key", "email_key"),
}


def one_hold_of(constraint: str, params: dict) -> dict:
    column, param = ONE_HOLD_PER[constraint]
    return {column: params[param]}


def _pending(**bound: object):
    """The pending holds of one slot, identity number, phone, mailbox or network."""
    ((column, value),) = bound.items()
    return Appointment.objects.filter(status=Appointment.Status.PENDING, **{column: value})


def expire_lapsed(*, now: datetime, **bound: object) -> int:
    """Expire the lapsed holds (their code not entered in time) of one slot (`slot_id=`),
    identity number, phone, mailbox or network that a booking found spent; returns how many.
    The seat trigger and the network trigger give back what each held. Row by row under
    their locks: a confirmation racing it wins or loses whole (status = 'pending')."""
    lapsed = _pending(**bound).filter(hold_expires_at__lte=now)
    if not lapsed.exists():  # the usual case: a refusal reads, it does not write
        return 0
    return holds_end(lapsed, now=now)


def holds_end(holds: QuerySet, *, now: datetime) -> int:
    """End these holds without their code (those still pending: one that a confirmation took
    meanwhile is left to it); returns how many ended. The one way a hold lapses, whatever
    ends it: its time (holds_expire, and a booking that finds a bound spent), its last wrong
    code, or the closure of its slot. The seat and network triggers give back what each
    held; each leaves its event."""
    with transaction.atomic(), transitions.recorded(action=transitions.EXPIRE, at=now):
        return holds.filter(status=Appointment.Status.PENDING).update(
            status=Appointment.Status.EXPIRED, updated_at=now
        )


def too_many_holds(*, now: datetime, **bound: object) -> TooManyHolds:
    """TooManyHolds, with the seconds until the first of the holds in the way lapses."""
    first = _pending(**bound).order_by("hold_expires_at").values_list("hold_expires_at", flat=True)
    ends = first.first()
    wait = int((ends - now).total_seconds()) + 1 if ends else 60
    return TooManyHolds(retry_after=max(wait, 1))


def network_spent(network: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT held FROM appointments_holdnetwork WHERE network = %s", [network])
        row = cursor.fetchone()
    return row is not None and row[0] >= settings.HOLDS_PER_NETWORK


def notify_guessing(*, replaced_id: int) -> None:
    """Tell the holder of a booking, once, that someone kept entering wrong codes to
    replace it (it stays theirs)."""
    with transaction.atomic():
        notifications.enqueue(
            appointment=replaced_id,
            kind="booking_guessing",
            key=notifications.appointment_key(replaced_id, "guessing"),
        )
