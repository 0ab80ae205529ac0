"""The one table of an appointment's moves from one status to another, each with the
actions that make it; and how a service names the person and the reason of the moves it
makes (`recorded`).

PostgreSQL keeps both (migration 0019): a trigger on the appointments refuses a change of
status that is not in the table (constraint `appointment_move_allowed`) and writes, for every
change it lets through, an AppointmentEvent (from, to, when, who, action, why), whichever
path made it: a service through the ORM, a statement of its own
(services/rebook.sql) or a statement typed by hand. Who and why are what the transaction
said with `recorded` (transaction-local settings of PostgreSQL); a move made without it has
the action `system`, which no move of the table allows: every path that changes a status
names its action. The booking itself is no move: it is the appointment's row and its
`created_at`.
"""

import contextlib
from collections.abc import Iterator
from datetime import datetime

from django.db import DatabaseError, connection, transaction

from .models import Appointment

S = Appointment.Status

# Actions, as the events name them.
CONFIRM = "confirm"  # the code of a hold entered (services/verification.py)
EXPIRE = "expire"  # a hold lapsed, used up its tries, or its slot was closed
REPLACE = "replace"  # the identity's new booking, confirmed, replaced this one
CANCEL = "cancel"  # by its holder (manage link) or at the counter
EVICT = "evict"  # at the counter, after an identity check (services/counter.py)
DISPLACE = "displace"  # a closure or suspension took its slot (services/calendar.py)
REBOOK = "rebook"  # a displaced appointment given a new time after the reopening
RESCHEDULE = "reschedule"  # its holder chose a new time
CHECK_IN = "check-in"
NO_SHOW = "no-show"
ENROL = "enrol"  # its passport file was opened (production.services.file_enrol)
SYSTEM = "system"  # a move made without `recorded`: in no move of the table, so refused

MOVES: dict[tuple[str, str], frozenset[str]] = {
    (S.PENDING, S.BOOKED): frozenset({CONFIRM}),
    (S.PENDING, S.EXPIRED): frozenset({EXPIRE, EVICT}),
    (S.BOOKED, S.CANCELLED): frozenset({CANCEL, REPLACE, EVICT}),
    (S.BOOKED, S.DISPLACED): frozenset({DISPLACE}),
    (S.DISPLACED, S.BOOKED): frozenset({REBOOK, RESCHEDULE}),
    (S.DISPLACED, S.CANCELLED): frozenset({CANCEL, EVICT}),
    (S.BOOKED, S.CHECKED_IN): frozenset({CHECK_IN}),
    (S.BOOKED, S.NO_SHOW): frozenset({NO_SHOW}),
    (S.BOOKED, S.ENROLLED): frozenset({ENROL}),
    (S.CHECKED_IN, S.ENROLLED): frozenset({ENROL}),
}


def allowed(*, start: str, to: str, action: str = SYSTEM) -> bool:
    """Whether the table has the move, made by this action."""
    return action in MOVES.get((start, to), frozenset())


# The transaction-local settings the trigger reads (migration 0019).
_SETTINGS = (
    "epassport.event_by",
    "epassport.event_action",
    "epassport.event_note",
    "epassport.event_at",
)


def _set(values: tuple[str, str, str, str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, %s, true),"
            " set_config(%s, %s, true), set_config(%s, %s, true)",
            [item for pair in zip(_SETTINGS, values, strict=True) for item in pair],
        )


@contextlib.contextmanager
def recorded(
    *, action: str, by=None, note: str = "", at: datetime | None = None
) -> Iterator[None]:
    """The moves made inside are `action`'s, by `by` (a user, or None for the service
    itself), for `note`, at `at` (default: the transaction's time). Inside a transaction
    (the settings last until it ends; they are cleared on the way out, so that a later move
    of the same transaction is not credited to this one)."""
    if not any(action in actions for actions in MOVES.values()):
        raise ValueError(f"unknown action {action!r}")
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("recorded() needs a transaction")
    by_id = "" if by is None else str(getattr(by, "pk", by))
    _set((by_id, action, note, at.isoformat() if at else ""))
    try:
        yield
    finally:
        # A transaction that failed inside is rolled back, its settings with it.
        with contextlib.suppress(DatabaseError):
            if not connection.needs_rollback:
                _set(("", "", "", ""))
