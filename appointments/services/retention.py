"""Erasure of applicants' identity data once it is no longer needed. The one home of what
erasing an appointment means (retention_erase.sql), used for the
appointments that led to no passport file (here) and for those of delivered files
(production.retention, which calls `appointments_erase` in its own transaction).

What is guaranteed, whatever the number of workers running it at once:

- an appointment is erased once: rows are claimed with `FOR UPDATE SKIP LOCKED` and only
  rows not erased yet change; a second run finds nothing to do;
- what stays is what the statistics need (status, slot and so its times, office, language,
  dates) and the database refuses a half-erased row (appointment_identity_or_erased);
- nobody is written to any more about an erased appointment (epassport_outbox_recipients
  skips it) and the backlog never rebooks one (rebook.sql).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core import chunks, sql
from core.models import OutboxMessage

from ..models import Appointment

_STATUSES = {"AppointmentStatus": Appointment.Status, "OutboxStatus": OutboxMessage.Status}
PICK = sql.load(Path(__file__).with_name("retention_pick.sql"), **_STATUSES)
ERASE = sql.load(Path(__file__).with_name("retention_erase.sql"), **_STATUSES)


def appointments_erase(*, ids: Sequence[int], now: datetime) -> int:
    """Erase the identity of these appointments and of their messages, in the caller's
    transaction (lock them first to avoid waiting); returns how many were erased now (those
    erased before are left as they are)."""
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(ERASE.sql, {"ids": list(ids), "now": now})
        erased, _messages = cursor.fetchone()
    return erased


def appointments_erase_expired(*, now: datetime | None = None, days: int | None = None) -> int:
    """Erase the appointments that led to no passport file and whose slot ended more than
    `days` (settings.RETENTION_APPOINTMENT_DAYS) ago: cancelled, no-show, booked or checked
    in and never enrolled, an unconfirmed hold whatever status it ended in, and the displaced
    ones that will not be rebooked (retention_pick.sql). Chunk by chunk, each its own
    transaction, walking the appointments not erased yet once in id order; returns how many
    were erased."""
    now = now or timezone.now()
    days = settings.RETENTION_APPOINTMENT_DAYS if days is None else days
    params = {"cutoff": now - timedelta(days=days), "now": now, "after": 0}
    erased = 0

    def claim(size: int) -> int:
        nonlocal erased
        with connection.cursor() as cursor:
            cursor.execute(PICK.sql, {**params, "chunk": size})
            ids = [row[0] for row in cursor.fetchall()]
        erased += appointments_erase(ids=ids, now=now)
        if ids:
            params["after"] = ids[-1]
        return len(ids)

    chunks.claim_in_chunks(claim)
    return erased
