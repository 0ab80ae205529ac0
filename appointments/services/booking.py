"""Bookings by applicants: book a seat (its bounds on holds: services/holds.py; the booking
once made, read, cancelled or moved with its manage token: services/manage.py).

Capacity is protected by the database (migration 0003): the trigger on appointments keeps
Slot.booked and the check constraint slot_within_capacity refuses an overbooking. Whether a
slot may be booked at all is the one rule of appointments/eligibility.py. These services add
the clear errors, the order of locks and the notifications. With contact verification on
(BOOKING_VERIFY_CONTACT), a booking is a pending hold until its code is entered: see
services/verification.py.
"""

import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from time import monotonic

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import sql
from core.errors import DomainError, NotFound
from core.models import Office, OutboxMessage

from .. import eligibility, notifications, protection, selectors
from ..errors import (
    AdmissionUsed,
    AlreadyBooked,
    BookingClosed,
    SlotFull,
    SlotInPast,
    TooManyCodeFailures,
)
from ..models import Appointment, Slot
from ..validation import REFERENCE_ALPHABET, email_key
from .codes import HOLD_DURATION, hash_code, new_code
from .holds import (
    ONE_HOLD_PER,
    expire_lapsed,
    network_spent,
    notify_guessing,
    one_hold_of,
    too_many_holds,
)

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


def _full_slot(slot_id: object) -> Slot | None:
    hit = _known_full.get(slot_id) if isinstance(slot_id, int) else None
    if hit is None or hit[0] < monotonic():
        return None
    return hit[1]


def slot_remembered_full(*, slot_id: object) -> bool:
    """Whether this process found the slot with this id full a moment ago (no error built,
    so no language needed yet)."""
    return _full_slot(slot_id) is not None


def slot_known_full(*, slot_id: object) -> SlotFull | None:
    """SlotFull if this process found the slot with this id full a moment ago; None when it
    does not know (the booking statement then decides)."""
    slot = _full_slot(slot_id)
    if slot is None:
        return None
    return SlotFull(next_free=selectors.next_free_slots_cached(slot=slot))


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

# Written in SQL (book.sql) and prepared once per database connection because it runs for
# every request of a reopening rush: the ORM's create() and separate checks cost four times
# the CPU, and planning this statement costs more than running it. It runs alone, outside
# any transaction (in one of the caller's, if any, under a savepoint): with the messages and
# the challenge in the same statement, BEGIN and COMMIT would be two more round trips to
# PostgreSQL per booking. Its parameters and their types (core.sql numbers them $1, $2, ...
# in the order the statement first names them):
_TYPES = {
    "reference": "text",
    "status": "text",
    "hold_expires_at": "timestamptz",
    "code_hash": "text",
    "surname": "text",
    "given_names": "text",
    "birth_date": "date",
    "national_id": "text",
    "email": "text",
    "phone": "text",
    "language": "text",
    "token_hash": "text",
    "created_at": "timestamptz",
    "slot": "bigint",
    "now": "timestamptz",
    "email_key": "text",
    "network": "text",
    "network_cap": "integer",
    "admission_ticket": "bigint",
    "failure_cap": "integer",
    "challenge": "text",
    "challenge_expires": "double precision",
    "kind": "text",
    "payload": "jsonb",
    "event": "text",
}
BOOK = sql.load(
    Path(__file__).with_name("book.sql"),
    AppointmentStatus=Appointment.Status,
    OutboxStatus=OutboxMessage.Status,
)
_PREPARE = BOOK.prepare("epassport_book", _TYPES)
_EXECUTE = BOOK.execute("epassport_book")


def _execute_book(cursor, params: dict) -> tuple | None:
    # A prepared statement lives as long as its database session (a rollback keeps it), so
    # it is prepared once per connection: remember which connection it was prepared on.
    raw = connection.connection
    if getattr(connection, "_epassport_book_prepared_on", None) is not raw:
        cursor.execute(_PREPARE)
        connection._epassport_book_prepared_on = raw
    cursor.execute(_EXECUTE, BOOK.args(params))
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
    /24 or /48 it came from, clients.hold_network; "" for none). A hold that would replace
    a booking whose identity number had CODE_FAILURES_PER_NINA wrong codes in a day is
    refused (TooManyCodeFailures) and the booking's holder is told, once. Around a
    reopening, `admission_ticket` is the waiting-room ticket whose admission the request
    carries: it holds one seat at a time (AdmissionUsed otherwise). `challenge`, a solution
    checked by protection.challenge_check, is used up only if the booking is made (in its
    statement): a refusal leaves it good for the next try (ChallengeFailed if used)."""
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
            "failure_cap": settings.CODE_FAILURES_PER_NINA,
            "challenge": challenge.signature if challenge is not None else "",
            "challenge_expires": challenge.expires_at if challenge is not None else 0,
            **_MESSAGE[verify](token=token, code=code),
            **vars(applicant),
        }
        try:
            # Alone, the statement is its own transaction; inside a caller's, a savepoint
            # keeps a refusal from breaking it.
            with _inside_callers_transaction(), connection.cursor() as cursor:
                row = _execute_book(cursor, params)
        except IntegrityError as error:
            constraint = _constraint_of(error)
            if constraint == "slot_within_capacity":  # lost the race for the last seat
                raise _slot_full(Slot.objects.get(pk=slot_id)) from None
            if constraint == "appointment_one_active_per_identity":
                raise AlreadyBooked() from None
            if constraint == "appointment_one_per_admission":
                raise AdmissionUsed() from None
            if constraint == USED_CHALLENGE:
                raise protection.ChallengeFailed() from None
            if constraint in ONE_HOLD_PER:
                if expire_lapsed(now=now, **one_hold_of(constraint, params)):
                    continue  # the other hold had lapsed: the bound is free again
                raise too_many_holds(now=now, **one_hold_of(constraint, params)) from None
            if "reference" in constraint:
                continue  # astronomically rare: draw another reference
            raise
        if row[0] is not None:
            appointment = _booked_appointment(row, params, applicant)
            if appointment.slot.remaining == 0:  # this booking took the last seat
                transaction.on_commit(partial(_remember_full, appointment.slot))
            if verify and row[10] and settings.OUTBOX_PUSH:  # a code: sent at once
                transaction.on_commit(partial(notifications.push, row[10]))
            return appointment, token
        if row[11] is not None:  # a hold replacing a booking whose code was guessed at
            notify_guessing(replaced_id=row[11])
            raise TooManyCodeFailures(retry_after=24 * 3600)
        if expire_lapsed(slot_id=slot_id, now=now):
            continue  # a hold whose code never came took the seat: it is free again
        refusal = _refusal(slot_id=slot_id, now=now)
        if refusal is not None:
            raise refusal
        if network and network_spent(network):
            if expire_lapsed(hold_network=network, now=now):
                continue
            raise too_many_holds(hold_network=network, now=now)
        # Full in the statement's snapshot, free a moment later: try again.
    raise SlotFull()


def _inside_callers_transaction():
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


# The unique key that refuses a proof-of-work solution used twice.
USED_CHALLENGE = "appointments_usedchallenge_pkey"

# The message a booking writes in its statement: its kind, payload and the event of its
# idempotency key (notifications.appointment_key), without verification and with it.
_MESSAGE = {
    False: lambda *, token, code: {
        "kind": "booking_confirmed",
        "payload": json.dumps({"manage_token": token}),
        "event": "confirmed",
    },
    True: lambda *, token, code: {
        "kind": "booking_code",
        "payload": json.dumps({"code": code}),
        "event": "code",
    },
}


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
    slot = Slot(**dict(zip(_SLOT_COLUMNS, row[2:10], strict=True)))
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
        **vars(applicant),
    )
    for instance in (slot, appointment):
        instance._state.adding = False
        instance._state.db = connection.alias
    return appointment
