"""Erasure of identity data once no longer needed: the periodic
task "personal data erasure" (daily; production.tasks.retention_erase) and `manage.py
erase_personal_data` run `retention_run`.

- An appointment that led to no passport file: RETENTION_APPOINTMENT_DAYS after its slot
  ended (appointments.services.appointments_erase_expired says which).
- A passport file, with its appointment (sql/erase_files.sql): delivered,
  RETENTION_FILE_DAYS after its `delivered` event; rejected, RETENTION_REJECTED_DAYS after
  its `rejected` event; ready and never collected, RETENTION_UNCOLLECTED_DAYS after it
  became ready.

What stays is what the statistics and the history need: statuses, dates, offices, centres,
batches, the files' events and the staff's views of them (FileView names the file, not the
person). Set-based SQL in chunks, rows claimed with `FOR UPDATE SKIP LOCKED`: several workers
may run it at once, each row is erased once, and a second run changes nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from appointments import services as appointment_services
from core import chunks, sql

from .models import FileStatus

ERASE_FILES = sql.load(Path(__file__).with_name("sql") / "erase_files.sql")
# Each end of a file, and the setting of the days its identity data is kept after it.
ENDS = {
    FileStatus.DELIVERED: "RETENTION_FILE_DAYS",
    FileStatus.REJECTED: "RETENTION_REJECTED_DAYS",
    FileStatus.READY: "RETENTION_UNCOLLECTED_DAYS",
}


@dataclass
class RetentionRun:
    appointments: int = 0  # erased alone (no file)
    files: int = 0  # erased with their appointment


def files_erase_delivered(*, now: datetime | None = None, days: int | None = None) -> int:
    """Erase the files delivered more than `days` (settings.RETENTION_FILE_DAYS) ago and
    their appointments; returns how many files were erased."""
    return files_erase_ended(status=FileStatus.DELIVERED, now=now, days=days)


def files_erase_ended(*, status: str, now: datetime | None = None, days: int | None = None) -> int:
    """Erase the files in `status` (one of ENDS) that reached it more than `days` (its
    setting) ago, and their appointments; returns how many files were erased."""
    now = now or timezone.now()
    days = getattr(settings, ENDS[status]) if days is None else days
    params = {"status": status, "cutoff": now - timedelta(days=days), "now": now, "after": 0}

    def claim(size: int) -> int:
        # Their appointments are erased in the chunk's transaction.
        with connection.cursor() as cursor:
            cursor.execute(ERASE_FILES.sql, {**params, "chunk": size})
            rows = cursor.fetchall()
        appointment_services.appointments_erase(
            ids=[appointment for _file, appointment in rows if appointment is not None],
            now=now,
        )
        if rows:
            params["after"] = max(file for file, _appointment in rows)
        return len(rows)

    return chunks.claim_in_chunks(claim)


def retention_run(*, now: datetime | None = None) -> RetentionRun:
    """Everything due for erasure at `now` (default: the clock)."""
    now = now or timezone.now()
    return RetentionRun(
        appointments=appointment_services.appointments_erase_expired(now=now),
        files=sum(files_erase_ended(status=status, now=now) for status in ENDS),
    )
