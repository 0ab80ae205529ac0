"""A booking managed by its holder: read with the manage token, cancel, move, and the
channels of its messages. Booking itself is services/booking.py."""

import hmac
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import NotFound
from core.models import OutboxMessage

from .. import notifications, transitions
from ..errors import AlreadyBooked, NoChannelLeft, NotChangeable, TooManyMoves
from ..models import Appointment, Slot
from .booking import SLOT_NOT_FOUND, _constraint_of, _slot_full, hash_token, slot_refusal


def booking_for_token(*, reference: str, token: str) -> Appointment:
    """The appointment whose manage token this is; NotFound otherwise (same answer for a
    wrong reference and a wrong token, in constant time)."""
    appointment = (
        Appointment.objects.select_related("slot", "office").filter(reference=reference).first()
    )
    expected = appointment.manage_token_hash if appointment else "0" * 64
    if not hmac.compare_digest(expected, hash_token(token or "")) or appointment is None:
        raise NotFound(_("Rendez-vous introuvable."))
    return appointment


def booking_changeable(*, appointment: Appointment, now: datetime) -> bool:
    """Whether the applicant may still cancel or move the appointment: it is booked and its
    time has not come, or it was displaced (a closure, a suspension) and waits for a new
    time. Never once its identity is erased (a request that read it just before the erasure
    then finds it so, under the row's lock)."""
    if appointment.erased_at is not None:
        return False
    if appointment.status == Appointment.Status.DISPLACED:
        return True
    return appointment.status == Appointment.Status.BOOKED and appointment.slot.starts_at > now


def _lock_changeable(*, appointment: Appointment, now: datetime) -> Appointment:
    """Lock the appointment's row (of=self: not the joined slot, whose lock is taken later
    and in a fixed order) and check that the applicant may still change it."""
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot")
        .get(pk=appointment.pk)
    )
    if not booking_changeable(appointment=locked, now=now):
        raise NotChangeable()
    return locked


@transaction.atomic
def booking_cancel(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """Cancel a booked appointment; its seat is freed at once (same transaction)."""
    now = now or timezone.now()
    locked = _lock_changeable(appointment=appointment, now=now)
    locked.status = Appointment.Status.CANCELLED
    with transitions.recorded(action=transitions.CANCEL, at=now):
        locked.save(update_fields=["status", "updated_at"])
    notifications.enqueue(
        appointment=locked,
        kind="booking_cancelled",
        key=notifications.appointment_key(locked.pk, "cancelled"),
    )
    return locked


@transaction.atomic
def booking_reschedule(
    *, appointment: Appointment, slot: Slot, now: datetime | None = None
) -> Appointment:
    """Move a booked appointment to another slot of the same office, atomically: the old
    seat is freed and the new one taken in one statement, never both nor neither. A
    displaced appointment (which holds no seat) is booked again in the new slot."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        # Wait for a closure or suspension being made (calendar.lock_out_bookings), so that
        # what is read below already sees it.
        cursor.execute("LOCK TABLE appointments_appointment IN ROW EXCLUSIVE MODE")
    locked = _lock_changeable(appointment=appointment, now=now)
    if slot.office_id != locked.office_id:
        raise NotFound(SLOT_NOT_FOUND)
    displaced = locked.status == Appointment.Status.DISPLACED
    if slot.pk == locked.slot_id and not displaced:
        return locked
    # Moves the applicant chose are bounded (a squatter moving a seat from day to day keeps
    # it from everybody); finding a new time for a displaced appointment is not one of them.
    if not displaced and locked.moves >= settings.MAX_MOVES:
        raise TooManyMoves()
    # Only the appointment row is locked above (of=self: not the joined slot). Lock both
    # slots now, in a fixed order (by id), so two reschedules crossing each other's slots
    # wait for one another instead of deadlocking; then judge the new one as it is now.
    slots = {
        s.pk: s
        for s in Slot.objects.select_for_update(of=("self",))
        .select_related("office")
        .filter(pk__in=[locked.slot_id, slot.pk])
        .order_by("pk")
    }
    target = slots[slot.pk]
    refusal = slot_refusal(slot=target, office=target.office, now=now, displaced=displaced)
    if refusal is not None:
        raise refusal
    moved_from = locked.slot_id
    locked.slot = target
    locked.status = Appointment.Status.BOOKED
    locked.moves += 0 if displaced else 1
    try:
        with transaction.atomic(), transitions.recorded(action=transitions.RESCHEDULE, at=now):
            locked.save(update_fields=["slot", "status", "moves", "updated_at"])
    except IntegrityError as error:
        constraint = _constraint_of(error)
        if constraint == "slot_within_capacity":
            raise _slot_full(target) from None
        if constraint == "appointment_one_active_per_identity":  # booked again meanwhile
            raise AlreadyBooked() from None
        raise
    _notify_move(locked, moved_from=moved_from)
    return locked


def _notify_move(appointment: Appointment, *, moved_from: int) -> None:
    """Tell the applicant of a move. Its key names the move: from and to which slot, and
    the how-manieth move of this appointment it is (its row is locked: no other move can
    be counted meanwhile), so that A to B, back to A and to B again are three messages."""
    moves = (
        OutboxMessage.objects.filter(appointment_id=appointment.pk, kind="booking_rescheduled")
        .values("idempotency_key")
        .distinct()
        .count()
    )
    key = notifications.appointment_key(
        appointment.pk, "moved", moved_from, appointment.slot_id, moves + 1
    )
    notifications.enqueue(appointment=appointment, kind="booking_rescheduled", key=key)


def booking_notifications_set(
    *, appointment: Appointment, email: bool | None = None, sms: bool | None = None
) -> Appointment:
    """Turn the applicant's messages by email or by SMS on or off (None: leave it as it
    is), whatever the appointment's status: a file's messages come after the appointment.
    One channel at least stays on: the database refuses both off (the check constraint
    appointment_notify_some_channel), even from two requests at once; NoChannelLeft then.
    Messages written already are sent; the next ones follow the choice."""
    fields = {
        name: value
        for name, value in (("notify_email", email), ("notify_sms", sms))
        if value is not None
    }
    if fields:
        try:
            with transaction.atomic():
                Appointment.objects.filter(pk=appointment.pk).update(
                    **fields, updated_at=timezone.now()
                )
        except IntegrityError as error:
            if _constraint_of(error) == "appointment_notify_some_channel":
                raise NoChannelLeft() from None
            raise
    appointment.refresh_from_db(fields=["notify_email", "notify_sms", "updated_at"])
    return appointment
