"""Notifications to applicants, through the outbox.

`enqueue` writes the messages in the caller's transaction (and, for a code only, asks for
a push at commit, below): the Celery task `appointments.outbox_sweep`, run by beat every
few seconds, sends every pending message whose time has come (several workers may sweep at
once: rows are claimed with SKIP LOCKED). So a booking never waits for the broker or the
mail server, and nothing is lost while either is down; in a rush the sweep sends messages
in batches instead of one task per booking.

Each event is written once. Its messages carry an idempotency key naming the event (see
`appointment_key`, and production.notifications for the files' events); the database holds
one message per key and channel (the constraint outbox_idempotency_key_channel) and every
insert says ON CONFLICT DO NOTHING: the same event written again, by a retried task, a
second worker or a re-run, adds nothing. The channels are those the applicant has not
turned off (the SQL function epassport_outbox_recipients, migration 0021_sql_functions).

Codes first. A hold's code (a kind registered `first`) is worth something only while its
hold lasts, 15 minutes, and at a reopening thousands of file notifications are queued ahead
of it. So the senders take the first kinds before any other message (the outbox's
`priority`, computed by PostgreSQL from the kind's name), and `enqueue` also pushes a code to a
worker when the transaction that wrote it commits (the task appointments.outbox_deliver
on the notifications queue): it leaves within seconds, not at the next sweep. The push is
one try without waiting, and a booking never fails for it: with Redis down the code waits
for the sweep, as every other message does.
"""

import contextlib
import functools
import json
import logging
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import sql, tasks
from core.logs import redact
from core.outbox import kinds

from .models import Appointment

logger = logging.getLogger(__name__)


def appointment_key(appointment_id: int, event: str, *details: object) -> str:
    """The idempotency key of an event of an appointment: `appointment:12:cancelled`,
    `appointment:12:displaced:345` (the slot it could not keep), ..."""
    return ":".join(["appointment", str(appointment_id), event, *map(str, details)])


# One statement for all the messages of an event, the outbox's one insert (the SQL function
# epassport_outbox_enqueue, migration 0021_sql_functions, which the statements that write
# messages with their change call too): this runs inside every booking of a reopening rush,
# and the ORM's bulk_create costs five times its CPU here.
_ENQUEUE = sql.render(
    "SELECT id FROM epassport_outbox_enqueue(:kind, :appointment, :payload, :at, :key,"
    " :recipients_of) AS id",
    path=Path(__file__),
)
# Prepared once per database connection, as the booking statement is: planning it cost
# more than running it (0.5 ms against 0.3), in every booking of a reopening rush.
_PREPARE = _ENQUEUE.prepare(
    "epassport_enqueue",
    {
        "kind": "text",
        "appointment": "bigint",
        "payload": "jsonb",
        "at": "timestamptz",
        "key": "text",
        "recipients_of": "bigint",
    },
)
_EXECUTE = _ENQUEUE.execute("epassport_enqueue")


def enqueue(
    *,
    appointment: Appointment | int,
    kind: str,
    key: str,
    payload: dict | None = None,
    recipients_of: int | None = None,
) -> int:
    """Write the email and the SMS of this event (those of the channels the applicant has
    not turned off), in the caller's transaction, unless messages with this idempotency key
    exist already; returns how many were written. `payload` (e.g. {"manage_token": ...}) is
    kept only until each message is sent. `recipients_of`: the id of another appointment
    whose contacts (and language) receive the messages instead (the code of a hold goes to
    the contacts of the booking it would replace). Messages of the first kinds (codes) are
    also pushed to a worker once the caller's transaction commits."""
    # The kinds each app registers (core.outbox.kinds): what a message says is its app's.
    if not kinds.registered(kind):
        raise ValueError(f"unknown notification kind {kind!r}")
    params = _ENQUEUE.args(
        {
            "kind": kind,
            "appointment": appointment if isinstance(appointment, int) else appointment.pk,
            "payload": json.dumps(payload or {}),
            "at": timezone.now(),  # the application's clock, as the ORM's defaults would use
            "key": key,
            "recipients_of": recipients_of,
        }
    )
    with connection.cursor() as cursor:
        # A prepared statement lives as long as its database session (a rollback keeps
        # it): prepared once per connection, remembered on it.
        raw = connection.connection
        if getattr(connection, "_epassport_enqueue_prepared_on", None) is not raw:
            cursor.execute(_PREPARE)
            connection._epassport_enqueue_prepared_on = raw
        cursor.execute(_EXECUTE, params)
        ids = [row[0] for row in cursor.fetchall()]
    if ids and kinds.get(kind).first and settings.OUTBOX_PUSH:
        transaction.on_commit(functools.partial(push, ids))
    return len(ids)


# The push of codes --------------------------------------------------------------------------

# After a failed push, this process does not try the broker again for this long: a Redis that
# hangs would otherwise cost every booking its connection timeout.
PUSH_FAIL_FAST_SECONDS = 5.0
PUSH_TIMEOUT_SECONDS = 0.25
_push_down_until = 0.0
_push_local = threading.local()


def _push_connection():
    """This thread's connection to the broker for pushes: kept between bookings (publishing
    on it costs under a millisecond), with no retry on failure (kombu's default retries for
    some 6 seconds before giving up)."""
    url = settings.CELERY_BROKER_URL
    kept = getattr(_push_local, "connection", None)
    if kept is None or kept[0] != url:
        app = tasks.outbox_deliver.app
        # Short timeouts: a push waits on the request's thread, and a hung broker must cost
        # a booking a fraction of a second at most (the sweep sends the code anyway).
        options = {
            "max_retries": 0,
            "socket_connect_timeout": PUSH_TIMEOUT_SECONDS,
            "socket_timeout": PUSH_TIMEOUT_SECONDS,
        }
        kept = (url, app.connection_for_write(url, transport_options=options))
        _push_local.connection = kept
    return kept[1]


def push(message_ids: list[int]) -> bool:
    """Ask a worker to send these messages now (run at commit); False when the broker could
    not be reached: they are pending and due all the same, and the next sweep sends them."""
    global _push_down_until
    if time.monotonic() < _push_down_until:
        return False
    try:
        tasks.outbox_deliver.apply_async(
            args=(message_ids,),
            queue=settings.CELERY_NOTIFICATIONS_QUEUE,
            retry=False,
            connection=_push_connection(),
        )
    except Exception as error:  # whatever the broker does, the booking has happened
        _push_down_until = time.monotonic() + PUSH_FAIL_FAST_SECONDS
        kept = getattr(_push_local, "connection", None)
        _push_local.connection = None
        if kept is not None:
            with contextlib.suppress(Exception):
                kept[1].release()  # a fresh one next time: this one may be broken
        logger.warning(
            "outbox messages %s not pushed to a worker (the sweep sends them): %s",
            message_ids,
            redact(repr(error)),
        )
        return False
    return True
