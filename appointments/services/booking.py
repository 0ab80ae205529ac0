"""Bookings by applicants: book a seat, read a booking with its manage token, cancel, move.

Capacity is protected by the database (migration 0003): the trigger on appointments keeps
Slot.booked and the check constraint slot_within_capacity refuses an overbooking. Whether a
slot may be booked at all is the one rule of appointments/eligibility.py. These services add
the clear errors, the order of locks and the notifications. With contact verification on
(BOOKING_VERIFY_CONTACT), a booking is a pending hold until its code is entered: see
services/verification.py.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from time import monotonic

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epassport.errors import DomainError, NotFound

from .. import eligibility, notifications, protection, selectors
from ..errors import (
    AdmissionUsed,
    AlreadyBooked,
    BookingClosed,
    NoChannelLeft,
    NotChangeable,
    SlotFull,
    SlotInPast,
    TooManyCodeFailures,
    TooManyHolds,
    TooManyMoves,
)
from ..models import Appointment, Office, OutboxMessage, Slot
from ..validation import REFERENCE_ALPHABET, email_key
from .codes import HOLD_DURATION, hash_code, new_code

SLOT_NOT_FOUND = _("Ce créneau n’existe pas.")


@dataclass(frozen=True)
class Applicant:
    """What an applicant gives, already validated and normalised (see validation.py)."""

    surname: str
    given_names: str
    birth_date: date
    national_id: str
    email: str
    phone: str
    language: str = "fr"


def new_reference() -> str:
    """8 characters of an alphabet without look-alikes, from the OS's random source:
    25^8 ≈ 1.5e11 possibilities, so references can be neither counted nor guessed."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _constraint_of(error: IntegrityError) -> str:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", "") or ""


# Why a slot cannot be booked ---------------------------------------------------------------


def _slot_full(slot: Slot) -> SlotFull:
    _remember_full(slot)
    return SlotFull(next_free=selectors.next_free_slots_cached(slot=slot))


# Slots a booking found full (or filled), remembered by each process for FULL_SLOT_SECONDS:
# in a rush most requests are for a slot that is full, and each is refused at once from here
# (with the next free slots, cached too), before the anti-bot challenge is checked and
# without any statement: no seat lock, no write. A seat freed meanwhile (a cancellation, a
# lapsed hold) is offered again by this process that much later at most.
FULL_SLOT_SECONDS = 2.0
_known_full: dict[int, tuple[float, Slot]] = {}


def _remember_full(slot: Slot) -> None:
    if len(_known_full) > 10_000:
        _known_full.clear()
    _known_full[slot.pk] = (monotonic() + FULL_SLOT_SECONDS, slot)


def slot_known_full(*, slot_id: object) -> SlotFull | None:
    """SlotFull if this process found the slot with this id full a moment ago; None when it
    does not know (the booking statement then decides)."""
    hit = _known_full.get(slot_id) if isinstance(slot_id, int) else None
    if hit is None or hit[0] < monotonic():
        return None
    return SlotFull(next_free=selectors.next_free_slots_cached(slot=hit[1]))


def slot_refusal(
    *, slot: Slot, office: Office, now: datetime, displaced: bool = False
) -> DomainError | None:
    """Why `slot` (of `office`) cannot be booked at `now` (for a displaced appointment: the
    seats held back for those count as free), as the error the applicant gets; None when it
    can. eligibility.verdict() decides; this names it."""
    suspensions = eligibility.suspensions_around(moments=[now, slot.starts_at])
    verdict = eligibility.verdict(
        slot=slot, office=office, suspensions=suspensions, now=now, displaced=displaced
    )
    match verdict.reason:
        case None:
            return None
        case eligibility.Reason.CLOSED:
            return BookingClosed(reopens_at=None)
        case eligibility.Reason.SUSPENDED:
            reopens_at = verdict.suspension.reopens_at
            return BookingClosed(
                verdict.suspension.display_message,
                reopens_at=reopens_at.isoformat() if reopens_at else None,
            )
        case eligibility.Reason.PAST:
            return SlotInPast()
        case eligibility.Reason.FULL:
            slot.office = office
            return _slot_full(slot)


def _refusal(*, slot_id: int, now: datetime) -> DomainError | None:
    """Why the slot with this id could not be booked at `now`, read afresh (None: it can be,
    after all)."""
    slot = Slot.objects.select_related("office").filter(pk=slot_id).first()
    if slot is None:
        return NotFound(SLOT_NOT_FOUND)
    return slot_refusal(slot=slot, office=slot.office, now=now)


def slot_for_booking(*, slot_id: int, office: Office | None = None) -> Slot:
    # The slot alone (its office must be active: checked here, exactly); the office's other
    # attributes come from the per-process cache of selectors.office_cached.
    query = Slot.objects.filter(office__active=True)
    if office is not None:
        query = query.filter(office=office)
    try:
        slot = query.get(pk=slot_id)
    except Slot.DoesNotExist:
        raise NotFound(SLOT_NOT_FOUND) from None
    slot.office = office or selectors.office_cached(office_id=slot.office_id)
    return slot


# The booking statement ----------------------------------------------------------------------

# Its parameters, in the order of $1, $2, ... and their types. Written in SQL (book.sql) and
# prepared once per database connection because it runs for every request of a reopening
# rush: the ORM's create() and separate checks cost four times the CPU, and planning this
# statement costs more than running it.
_PARAMS = [
    ("reference", "text"),
    ("status", "text"),
    ("hold_expires_at", "timestamptz"),
    ("code_hash", "text"),
    ("surname", "text"),
    ("given_names", "text"),
    ("birth_date", "date"),
    ("national_id", "text"),
    ("email", "text"),
    ("phone", "text"),
    ("language", "text"),
    ("token_hash", "text"),
    ("created_at", "timestamptz"),
    ("slot", "bigint"),
    ("now", "timestamptz"),
    ("email_key", "text"),
    ("network", "text"),
    ("network_cap", "integer"),
    ("admission_ticket", "bigint"),
]
_POSITION = {name: index for index, (name, _kind) in enumerate(_PARAMS, start=1)}
SQL_FILE = Path(__file__).with_name("book.sql")
BOOK_SQL = re.sub(
    r"(?<!:):([a-z_]+)",
    lambda match: f"${_POSITION[match[1]]}",
    "\n".join(line for line in SQL_FILE.read_text().splitlines() if not line.startswith("--")),
)
_PREPARE = "PREPARE epassport_book ({}) AS {}".format(
    ", ".join(kind for _name, kind in _PARAMS), BOOK_SQL
)
_EXECUTE = "EXECUTE epassport_book ({})".format(", ".join(["%s"] * len(_PARAMS)))


def _execute_book(cursor, params: dict) -> tuple | None:
    # A prepared statement lives as long as its database session (a rollback keeps it), so
    # it is prepared once per connection: remember which connection it was prepared on.
    raw = connection.connection
    if getattr(connection, "_epassport_book_prepared_on", None) is not raw:
        cursor.execute(_PREPARE)
        connection._epassport_book_prepared_on = raw
    cursor.execute(_EXECUTE, [params[name] for name, _kind in _PARAMS])
    return cursor.fetchone()


def booking_create(
    *,
    slot: Slot | int,
    applicant: Applicant,
    now: datetime | None = None,
    verify: bool | None = None,
    network: str = "",
    admission_ticket: int | None = None,
    challenge: protection.Solved | None = None,
) -> tuple[Appointment, str]:
    """Book a seat of `slot` (a Slot or its id) for the applicant; returns the appointment
    and its manage token (shown once: only its hash is stored). Raises NotFound (no such
    slot), SlotFull, AlreadyBooked, BookingClosed or SlotInPast.

    With contact verification (`verify`, by default the setting BOOKING_VERIFY_CONTACT) the
    appointment is `pending`: its seat is held for HOLD_DURATION and a 6-digit code is sent,
    to the contacts of the identity's booked appointment if it has one (its holder alone
    may replace it), to the applicant's otherwise. The answer is the same either way, and
    never AlreadyBooked: it does not tell whether the identity number holds a booking.

    A pending hold is bounded (TooManyHolds, with `retry_after`): one at a time per identity
    number, phone number and mailbox, and HOLDS_PER_NETWORK at a time from `network` (the
    /24 or /48 it came from, protection.hold_network; "" for none). A hold that would replace
    a booking whose identity number had CODE_FAILURES_PER_NINA wrong codes in a day is
    refused (TooManyCodeFailures) and the booking's holder is told, once. Around a
    reopening, `admission_ticket` is the waiting-room ticket whose admission the request
    carries: it holds one seat at a time (AdmissionUsed otherwise). `challenge`, a solution
    checked by protection.challenge_check, is used up only if the booking is made (in its
    transaction): a refusal leaves it good for the next try (ChallengeFailed if used)."""
    now = now or timezone.now()
    verify = settings.BOOKING_VERIFY_CONTACT if verify is None else verify
    slot_id = slot if isinstance(slot, int) else slot.pk
    token = secrets.token_urlsafe(24)
    code = new_code() if verify else ""
    network = network if verify else ""
    for _attempt in range(5):
        reference = new_reference()
        params = {
            "reference": reference,
            "status": Appointment.Status.PENDING if verify else Appointment.Status.BOOKED,
            "hold_expires_at": now + HOLD_DURATION if verify else None,
            "code_hash": hash_code(reference=reference, code=code) if verify else "",
            "slot": slot_id,
            "now": now,
            "created_at": timezone.now(),  # the clock, as auto_now_add would read it
            "token_hash": hash_token(token),
            "email_key": email_key(applicant.email) if verify else "",
            "network": network,
            "network_cap": settings.HOLDS_PER_NETWORK,
            "admission_ticket": admission_ticket,
            **asdict(applicant),
        }
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                row = _execute_book(cursor, params)
                if row is not None:
                    if challenge is not None:
                        protection.challenge_use(challenge)
                    appointment = _booked_appointment(row, params, applicant)
                    if appointment.slot.remaining == 0:  # this booking took the last seat
                        # Once committed: a booking rolled back (a refusal below) took none.
                        transaction.on_commit(partial(_remember_full, appointment.slot))
                    if appointment.replaces_id is not None:
                        _check_code_failures(appointment, now=now)
                    _notify_booked(appointment, token=token, code=code)
        except IntegrityError as error:
            constraint = _constraint_of(error)
            if constraint == "slot_within_capacity":  # lost the race for the last seat
                raise _slot_full(Slot.objects.get(pk=slot_id)) from None
            if constraint == "appointment_one_active_per_identity":
                raise AlreadyBooked() from None
            if constraint == "appointment_one_per_admission":
                raise AdmissionUsed() from None
            if constraint in _ONE_HOLD_PER:
                if _expire_lapsed_holds(now=now, **_one_hold_of(constraint, params)):
                    continue  # the other hold had lapsed: the bound is free again
                raise _too_many_holds(now=now, **_one_hold_of(constraint, params)) from None
            if "reference" in constraint:
                continue  # astronomically rare: draw another reference
            raise
        except TooManyCodeFailures:
            _notify_guessing(replaced_id=appointment.replaces_id)
            raise
        if row is not None:
            return appointment, token
        if _expire_lapsed_holds(slot_id=slot_id, now=now):
            continue  # a hold whose code never came took the seat: it is free again
        refusal = _refusal(slot_id=slot_id, now=now)
        if refusal is not None:
            raise refusal
        if network and _network_spent(network):
            if _expire_lapsed_holds(hold_network=network, now=now):
                continue
            raise _too_many_holds(hold_network=network, now=now)
        # Full in the statement's snapshot, free a moment later: try again.
    raise SlotFull()


# The bounds of one pending hold per identity number, phone number and mailbox: the unique
# index that refused a hold, and the column it bounds (the booking statement's parameter).
_ONE_HOLD_PER = {
    "appointment_one_hold_per_identity": ("national_id", "national_id"),
    "appointment_one_hold_per_phone": ("phone", "phone"),
    "appointment_one_hold_per_email": ("email_key", "email_key"),
}


def _one_hold_of(constraint: str, params: dict) -> dict:
    column, param = _ONE_HOLD_PER[constraint]
    return {column: params[param]}


def _pending(**bound: object):
    """The pending holds of one slot, identity number, phone, mailbox or network."""
    ((column, value),) = bound.items()
    return Appointment.objects.filter(status=Appointment.Status.PENDING, **{column: value})


def _expire_lapsed_holds(*, now: datetime, **bound: object) -> int:
    """Expire the lapsed holds (their code not entered in time) of one slot (`slot_id=`),
    identity number, phone, mailbox or network that a booking found spent; returns how many.
    The seat trigger and the network trigger give back what each held. Row by row under
    their locks: a confirmation racing it wins or loses whole (status = 'pending')."""
    lapsed = _pending(**bound).filter(hold_expires_at__lte=now)
    if not lapsed.exists():  # the usual case: a refusal reads, it does not write
        return 0
    with transaction.atomic():
        return lapsed.update(status=Appointment.Status.EXPIRED, updated_at=timezone.now())


def _too_many_holds(*, now: datetime, **bound: object) -> TooManyHolds:
    """TooManyHolds, with the seconds until the first of the holds in the way lapses."""
    first = _pending(**bound).order_by("hold_expires_at").values_list("hold_expires_at", flat=True)
    ends = first.first()
    wait = int((ends - now).total_seconds()) + 1 if ends else 60
    return TooManyHolds(retry_after=max(wait, 1))


def _network_spent(network: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT held FROM appointments_holdnetwork WHERE network = %s", [network])
        row = cursor.fetchone()
    return row is not None and row[0] >= settings.HOLDS_PER_NETWORK


# Wrong codes entered over a rolling day for an identity number, or against the booking a
# hold would replace (each hold allows a few; the partial index appointment_code_failures
# holds only the holds that had one).
_CODE_FAILURES = """
    SELECT coalesce(sum(code_attempts), 0) FROM appointments_appointment
    WHERE code_attempts > 0 AND updated_at > %(since)s
      AND (national_id = %(national_id)s OR replaces_id = %(replaced)s)
"""


def _check_code_failures(hold: Appointment, *, now: datetime) -> None:
    """Refuse (TooManyCodeFailures) a hold that would replace a booking once its identity
    number had CODE_FAILURES_PER_NINA wrong codes in a day: each hold allows a few tries at
    the code sent to the booking's holder, and a bot making hold after hold would otherwise
    guess it in the end."""
    params = {
        "since": now - timedelta(days=1),
        "national_id": hold.national_id,
        "replaced": hold.replaces_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CODE_FAILURES, params)
        (failures,) = cursor.fetchone()
    if failures >= settings.CODE_FAILURES_PER_NINA:
        raise TooManyCodeFailures(retry_after=24 * 3600)


def _notify_guessing(*, replaced_id: int) -> None:
    """Tell the holder of a booking, once, that someone kept entering wrong codes to
    replace it (it stays theirs)."""
    with transaction.atomic():
        notifications.enqueue(
            appointment=replaced_id,
            kind="booking_guessing",
            key=notifications.appointment_key(replaced_id, "guessing"),
        )


# The slot's columns that the statement returns after the appointment's id, in its order.
_SLOT_COLUMNS = (
    "id",
    "office_id",
    "starts_at",
    "ends_at",
    "capacity",
    "booked",
    "reserved",
    "is_open",
)


def _booked_appointment(row: tuple, params: dict, applicant: Applicant) -> Appointment:
    slot = Slot(**dict(zip(_SLOT_COLUMNS, row[2:], strict=True)))
    # The statement reads the slot as it was before its own insert (every part of a statement
    # sees one snapshot): the seat the trigger has just taken is added here.
    slot.booked += 1
    slot.office = selectors.office_cached(office_id=slot.office_id)
    appointment = Appointment(
        id=row[0],
        reference=params["reference"],
        office=slot.office,
        slot=slot,
        status=params["status"],
        hold_expires_at=params["hold_expires_at"],
        code_hash=params["code_hash"],
        replaces_id=row[1],
        manage_token_hash=params["token_hash"],
        created_at=params["created_at"],
        updated_at=params["created_at"],
        **asdict(applicant),
    )
    for instance in (slot, appointment):
        instance._state.adding = False
        instance._state.db = connection.alias
    return appointment


def _notify_booked(appointment: Appointment, *, token: str, code: str) -> None:
    if appointment.status == Appointment.Status.BOOKED:
        notifications.enqueue(
            appointment=appointment,
            kind="booking_confirmed",
            key=notifications.appointment_key(appointment.pk, "confirmed"),
            payload={"manage_token": token},
        )
        return
    # The code, to the contacts of the appointment this hold would replace, if any. One
    # statement whichever it is, so that both cases cost the same.
    notifications.enqueue(
        appointment=appointment,
        kind="booking_code",
        key=notifications.appointment_key(appointment.pk, "code"),
        payload={"code": code},
        recipients_of=appointment.replaces_id,
    )


# The manage link ----------------------------------------------------------------------------


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
        with transaction.atomic():
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
        OutboxMessage.objects.filter(appointment=appointment, kind="booking_rescheduled")
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
