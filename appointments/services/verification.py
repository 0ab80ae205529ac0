"""Contact verification: a pending hold becomes a booking when the applicant enters the code
sent to them, or it lapses and frees its seat.

With BOOKING_VERIFY_CONTACT on, booking_create inserts the appointment as `pending`, holding
its seat for HOLD_DURATION (15 minutes), and sends a 6-digit code (only a keyed hash of it
is stored: services/codes.py). What is guaranteed, by PostgreSQL rather than by Python:

- A hold takes a real seat: the seat trigger counts `pending` (migration 0007), so holds and
  bookings together can never overbook a slot.
- A hold ends exactly once. Every way out of `pending` (the confirmation here; the expiry
  by the periodic task `holds_expire`, by the booking statement of the same slot
  (services/book.sql) or by the last wrong code) changes the row only under its row lock
  and only WHERE status = 'pending'. A confirmation racing an expiry either finds the hold
  still pending and keeps its seat (pending -> booked moves no seat), or finds it expired
  (its seat freed once, by the trigger) and answers HoldExpired: never both, never neither.
- The code goes to the contacts of the identity's booked appointment when it has one (the
  booking statement notes it in `replaces`): a tout typing someone else's identity number
  gets the same answer as anyone, and no code. Confirming such a hold cancels the old
  appointment and books the new one in one transaction.
"""

import hmac
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import chunks
from core.errors import DomainError

from .. import notifications, transitions
from ..errors import AlreadyBooked, HoldExpired, SlotFull, WrongCode
from ..models import Appointment
from .booking import _constraint_of, slot_refusal
from .codes import CODE_MAX_ATTEMPTS, hash_code
from .holds import holds_end
from .manage import booking_changeable

LAST_TRY_FAILED = _(
    "Ce code n’est pas le bon et c’était le dernier essai : la place a été libérée. "
    "Réservez à nouveau."
)


def booking_confirm(
    *, appointment: Appointment, code: str, token: str, now: datetime | None = None
) -> Appointment:
    """Confirm a pending hold with its code; returns the appointment, `booked`. `token` is
    the manage token the caller proved (it goes into the confirmation message's link).

    Raises WrongCode (with `attempts_left`; at the last try the hold is released),
    HoldExpired (lapsed or released), AlreadyBooked (the identity was booked meanwhile, or
    the appointment this one would replace can no longer be changed), BookingClosed or
    SlotInPast (the slot was closed or has begun). An appointment confirmed already (a
    retried request) is returned as it is."""
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Wait for a closure or suspension being made (calendar.lock_out_bookings): it
            # expires the holds of the slots it closes, and this must see that.
            cursor.execute("LOCK TABLE appointments_appointment IN ROW EXCLUSIVE MODE")
        hold = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("slot", "office")
            .get(pk=appointment.pk)
        )
        outcome = _confirm_locked(hold, code=code, token=token, now=now)
    # Raised after the commit: a wrong try counted or a hold released stays so.
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def _confirm_locked(
    hold: Appointment, *, code: str, token: str, now: datetime
) -> Appointment | DomainError:
    if hold.status == Appointment.Status.EXPIRED:
        return HoldExpired()
    if hold.status != Appointment.Status.PENDING:
        return hold
    if hold.hold_expires_at <= now:
        _release(hold, now=now)
        return HoldExpired()
    expected = hash_code(reference=hold.reference, code=code)
    if not hmac.compare_digest(hold.code_hash, expected):
        return _wrong_try(hold, now=now)
    refusal = slot_refusal(slot=hold.slot, office=hold.office, now=now)
    if refusal is not None and not isinstance(refusal, SlotFull):  # its own seat fills it
        _release(hold, now=now)
        return refusal
    refusal = None
    try:
        with transaction.atomic():
            replaced = _cancel_replaced(hold, now=now)
            hold.status = Appointment.Status.BOOKED
            hold.code_hash = ""
            with transitions.recorded(action=transitions.CONFIRM, at=now):
                hold.save(update_fields=["status", "code_hash", "updated_at"])
    except AlreadyBooked as error:
        refusal = error
    except IntegrityError as error:
        if _constraint_of(error) != "appointment_one_active_per_identity":
            raise
        refusal = AlreadyBooked()  # another hold of this identity was confirmed first
    if refusal is not None:
        hold.status = Appointment.Status.PENDING
        _release(hold, now=now)
        return refusal
    if replaced is not None:
        notifications.enqueue(
            appointment=replaced,
            kind="booking_cancelled",
            key=notifications.appointment_key(replaced.pk, "cancelled"),
        )
    notifications.enqueue(
        appointment=hold,
        kind="booking_confirmed",
        key=notifications.appointment_key(hold.pk, "confirmed"),
        payload={"manage_token": token},
    )
    return hold


def _wrong_try(hold: Appointment, *, now: datetime) -> WrongCode:
    hold.code_attempts += 1
    left = CODE_MAX_ATTEMPTS - hold.code_attempts
    Appointment.objects.filter(pk=hold.pk).update(code_attempts=hold.code_attempts, updated_at=now)
    if left == 0:
        _release(hold, now=now)
        return WrongCode(LAST_TRY_FAILED, attempts_left=0)
    detail = ngettext(
        "Ce code n’est pas le bon. Il vous reste %(count)s essai.",
        "Ce code n’est pas le bon. Il vous reste %(count)s essais.",
        left,
    ) % {"count": left}
    return WrongCode(detail, attempts_left=left)


def _release(hold: Appointment, *, now: datetime) -> None:
    """Expire a hold whose row the transaction has locked; the trigger frees its seat."""
    holds_end(Appointment.objects.filter(pk=hold.pk), now=now)
    hold.status = Appointment.Status.EXPIRED


def _cancel_replaced(hold: Appointment, *, now: datetime) -> Appointment | None:
    """Cancel the booked appointment the hold replaces (its code went to that one's
    contacts), if it is still booked; AlreadyBooked when it can no longer be changed (the
    applicant is at the counter, or its time has come)."""
    if hold.replaces_id is None:
        return None
    replaced = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot")
        .filter(pk=hold.replaces_id, status__in=Appointment.ACTIVE)
        .first()
    )
    if replaced is None:
        return None
    if not booking_changeable(appointment=replaced, now=now):
        raise AlreadyBooked()
    replaced.status = Appointment.Status.CANCELLED
    with transitions.recorded(action=transitions.REPLACE, at=now, note=hold.reference):
        replaced.save(update_fields=["status", "updated_at"])
    return replaced


def holds_expire(*, now: datetime | None = None, chunk: int | None = None) -> int:
    """Expire every pending hold lapsed by `now`, freeing its seat; returns how many. In
    chunks (core.chunks; `chunk` rows each, by default its size), each its own short
    transaction, the first lapsed first; rows another transaction holds (a confirmation
    under way) are skipped, not waited for: the next run takes them if they are still
    pending then. Idempotent; several may run at once."""
    now = now or timezone.now()
    lapsed = Appointment.objects.filter(
        status=Appointment.Status.PENDING, hold_expires_at__lte=now
    ).order_by("hold_expires_at", "pk")

    def claim(size: int) -> int:
        free = lapsed.select_for_update(skip_locked=True)  # a confirmation holds its row
        taken = list(free.values_list("pk", flat=True)[:size])
        holds_end(Appointment.objects.filter(pk__in=taken), now=now)
        return len(taken)

    return chunks.claim_in_chunks(claim, size=chunk)


def holds_release(*, slots, now: datetime | None = None) -> int:
    """Expire the pending holds of these slots now (a closure or suspension closes them);
    returns how many."""
    return holds_end(Appointment.objects.filter(slot__in=slots), now=now or timezone.now())
