"""Sending the outbox: each message once, retried with backoff while the mail server or the
SMS provider is down, and no row lock or transaction held while a message is on its way.

A message goes in three steps:

1. *Claim.* In a short transaction the first due pending message is locked (`FOR UPDATE SKIP
   LOCKED`: a row another worker is claiming is skipped, not waited for), its
   `claimed_until` set OUTBOX_CLAIM_SECONDS ahead and its `next_attempt_at` with it, and the
   transaction commits: the message is not due for anybody else while the claim lasts.
2. *Send*, outside any transaction: a slow or dead mail server holds no lock.
3. *Record* the outcome with an UPDATE conditional on the claim (`status = 'pending' AND
   claimed_until = ours`): sent, its secrets wiped; or failed, due again after a backoff.

A claim lasts as long as the outbox sweep's hard time limit (settings), so when it lapses
its sender has recorded the outcome or is dead (a worker killed, a time limit reached): the
message is then due again, and the next sweep sends it, counting the lost attempt. A new
claim is only taken once the old one has lapsed, so its `claimed_until` is later than the
old one's and identifies it. Each message is sent once whoever sends it, several sweeps at
once included. What remains possible: a sender killed after the mail server or the provider
took the message and before step 3 (or the database failing then) makes it go twice: at
least once, never lost.
"""

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core import console, sms
from core.logs import redact
from core.models import OutboxMessage

from . import kinds

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
# Never hold a worker for long on a mail server that does not answer.
DEFAULT_EMAIL_TIMEOUT = 30
# The error recorded for an attempt whose sender died before recording its outcome.
LOST_SENDER = "sender lost: its claim lapsed before an outcome was recorded"
# The error of an SMS the sender refused: the forms refuse such numbers, so it was written
# before SMS_ALLOWED_COUNTRIES changed, or by a path that skipped them.
SMS_COUNTRY_REFUSED = "not sent: the number is outside SMS_ALLOWED_COUNTRIES"
# The error of a message of a kind no app registered (core/outbox/kinds.py).
UNKNOWN_KIND = "not sent: no app registered this kind of message"
# A message's secrets (its kind's: a manage link's token, a verification code, a tracking
# link's token) are kept while it may still be sent, dropped once it is sent or abandoned (a
# message retried from the admin afterwards goes without its link): kinds.without_secrets.


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failure: 1, 2, 4, 8... minutes, at most 6 hours."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def claimable(now: datetime, *, message_id: int | None = None) -> QuerySet[OutboxMessage]:
    """The due pending messages in the order they are sent: codes first (the priority, see
    core.models.FIRST_KIND_SUFFIX), then by due time. The order of the index outbox_pending_due,
    so the claim reads its first entries whatever the backlog."""
    # SKIP LOCKED: a row another worker is claiming is skipped, not waited for. Once a row is
    # locked PostgreSQL checks the conditions again on its latest version, so a message
    # another worker has just claimed (no longer due) or sent no longer matches.
    queryset = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
        status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now
    )
    if message_id is not None:
        queryset = queryset.filter(pk=message_id)
    return queryset.order_by("priority", "next_attempt_at", "pk")


def _claim(now: datetime, *, message_id: int | None = None) -> OutboxMessage | None:
    """Claim the first message due at `now` (or this one, if due) for this worker, and
    commit; None when there is none. A message whose last claim lapsed was being sent by a
    worker that died: that counts as an attempt, and the last one abandons it."""
    while True:
        with transaction.atomic():
            message = claimable(now, message_id=message_id).first()
            if message is None:
                return None
            fields = ["claimed_until", "next_attempt_at"]
            if message.claimed_until is not None:
                message.attempts += 1
                message.last_error = LOST_SENDER
                fields += ["attempts", "last_error"]
                logger.warning(
                    "outbox message %s (%s, %s): its sender was lost (attempt %s)",
                    message.pk,
                    message.kind,
                    message.channel,
                    message.attempts,
                )
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxMessage.Status.FAILED
                    message.claimed_until = None
                    message.payload = kinds.without_secrets(message)
                    message.save(update_fields=[*fields, "status", "payload"])
                    continue
            message.claimed_until = timezone.now() + timedelta(
                seconds=settings.OUTBOX_CLAIM_SECONDS
            )
            message.next_attempt_at = message.claimed_until
            message.save(update_fields=fields)
            return message


def outbox_deliver(*, message_id: int) -> bool:
    """Send this message if it is pending, due and not being sent by another worker.

    Returns True when it was sent now; False when there was nothing to do (already sent,
    being sent by another worker, not due yet) or when sending failed (a retry is
    scheduled). Idempotent; never raises for a failed send.
    """
    message = _claim(timezone.now(), message_id=message_id)
    if message is None:
        return False
    return _send_claimed(message)


def outbox_retry(*, message_ids: Iterable[int], now: datetime | None = None) -> int:
    """Give failed messages (abandoned after MAX_ATTEMPTS) a new series of attempts: pending
    again, due now, attempts back to 0 (their last error stays, for the record until the
    next one). Only failed messages change; returns how many did. The admin's action."""
    # A message of an erased appointment has no recipient left: it stays abandoned.
    return (
        OutboxMessage.objects.filter(pk__in=list(message_ids), status=OutboxMessage.Status.FAILED)
        .exclude(recipient="")
        .update(
            status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=now or timezone.now()
        )
    )


def outbox_sweep(*, limit: int = 200, seconds: float | None = None) -> int:
    """Send up to `limit` due pending messages, codes first, then oldest first; returns how
    many were sent.

    Each message is claimed, sent and recorded on its own, so that several sweeps can run at
    once, each taking messages the others have not claimed. No new message is claimed after
    `seconds` (a fifth of the claim's length by default), which keeps the sweep well inside
    its time limit: beat starts another one every few seconds.
    """
    # Due as of the start of the sweep: a message that fails now is due again only later,
    # so one sweep tries each message at most once.
    now = timezone.now()
    budget = settings.OUTBOX_CLAIM_SECONDS / 5 if seconds is None else seconds
    deadline = time.monotonic() + budget
    sent = 0
    for _index in range(limit):
        if time.monotonic() >= deadline:
            break
        message = _claim(now)
        if message is None:
            break
        sent += _send_claimed(message)
    return sent


def _send_claimed(message: OutboxMessage) -> bool:
    """Send a message this worker has claimed, outside any transaction; record the
    outcome."""
    if not kinds.registered(message.kind):
        # No app says what it says (a kind removed, or written by hand): retrying cannot
        # help. Abandoned at once, the reason recorded; the admin can retry it once a kind
        # is registered again.
        logger.error(
            "outbox message %s (%s, %s) abandoned: no app registered its kind",
            message.pk,
            message.kind,
            message.channel,
        )
        return _abandon(message, UNKNOWN_KIND)
    if message.channel == OutboxMessage.Channel.SMS and not sms.sms_allowed(message.recipient):
        # SMS to other countries are paid by the ministry and are what SMS pumping lives
        # on: abandoned at once, without a try (the email of the same event still goes).
        logger.warning(
            "outbox message %s (%s, sms) refused: number outside SMS_ALLOWED_COUNTRIES",
            message.pk,
            message.kind,
        )
        return _abandon(message, SMS_COUNTRY_REFUSED)
    try:
        with console.describing(message):  # what the console backends name
            if message.channel == OutboxMessage.Channel.EMAIL:
                _send_email(message)
            else:
                _send_sms(message)
    except Exception as error:
        _record_failure(message, error)
        return False
    _record(
        message,
        status=OutboxMessage.Status.SENT,
        sent_at=timezone.now(),
        payload={},  # the manage token leaves the database once it has been sent
    )
    return True


def _abandon(message: OutboxMessage, error: str) -> bool:
    """Give up a claimed message at once, without a try, for this reason; returns False (not
    sent)."""
    _record(
        message,
        status=OutboxMessage.Status.FAILED,
        attempts=message.attempts + 1,
        last_error=error,
        payload=kinds.without_secrets(message),
    )
    return False


def _record(message: OutboxMessage, **fields: object) -> bool:
    """Write the outcome of a send if the claim is still ours (the claim ends with it)."""
    recorded = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxMessage.Status.PENDING, claimed_until=message.claimed_until
    ).update(claimed_until=None, **fields)
    if not recorded:
        # Its claim lapsed (this sender outlived the time limit meant to kill it), or the
        # message was erased meanwhile: the outcome is not ours to write any more.
        logger.error("outbox message %s: claim lost before its outcome was recorded", message.pk)
    return bool(recorded)


def _record_failure(message: OutboxMessage, error: Exception) -> None:
    # Logged by id, kind and channel, never by recipient. The error's text may quote the
    # address a server refused or the SMS with its manage link: kept cleaned (core.logs),
    # in the database as in the log.
    message.attempts += 1
    message.last_error = redact(repr(error))[:2000]
    message.next_attempt_at = timezone.now() + backoff(message.attempts)
    fields = {
        "attempts": message.attempts,
        "last_error": message.last_error,
        "next_attempt_at": message.next_attempt_at,
    }
    if message.attempts >= MAX_ATTEMPTS:
        # The last try: the manage token leaves the database.
        fields.update(status=OutboxMessage.Status.FAILED, payload=kinds.without_secrets(message))
        logger.error(
            "outbox message %s (%s, %s) abandoned after %s attempts: %s",
            message.pk,
            message.kind,
            message.channel,
            message.attempts,
            message.last_error,
        )
    else:
        logger.warning(
            "outbox message %s (%s, %s) failed (attempt %s), retry at %s: %s",
            message.pk,
            message.kind,
            message.channel,
            message.attempts,
            message.next_attempt_at.isoformat(),
            message.last_error,
        )
    _record(message, **fields)


def _send_email(message: OutboxMessage) -> None:
    email = kinds.render_email(message)
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_EMAIL_TIMEOUT
    email.connection = mail.get_connection(timeout=timeout)
    email.send()


def _send_sms(message: OutboxMessage) -> None:
    sms.get_backend().send(to=message.recipient, text=kinds.sms_text(message))
