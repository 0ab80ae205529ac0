"""The backlog after a suspension: files held while it lasts, released when it ends, and
the dispatcher that takes queued files into each centre's production up to its daily
capacity. Services of the production app (writes), kept apart from services.py because they
work on sets of rows in SQL (production/sql/*.sql), not on one file at a time.

What is guaranteed, whatever the number of workers running `backlog_run` at once and
whether the clocked task of a reopening fired or not:

- a file is held, released or dispatched once: each statement claims its rows with
  `FOR UPDATE SKIP LOCKED` and changes only rows still in the status it looked for;
- a centre's batch of the day never holds more files than its capacity: the batch row is
  locked while it is filled, and the check constraint batch_within_capacity refuses more;
- every move is one the table of production/transitions.py allows the service to make
  (SYSTEM), and leaves its event, in the same statement, with the applicant's messages
  when production/notifications.py says the move is told (holds and releases);
- nothing depends on time having been watched: each run looks at which suspensions are in
  force *now* (epassport_suspensions_at, the booking rule's own SQL function) and brings the
  files in line, so a run after a missed reopening releases what it should.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from time import monotonic

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from appointments import services as appointment_services
from appointments.models import Suspension
from core import chunks, sql
from core.models import OutboxMessage

from . import notifications, transitions, workdays
from .models import QUEUE_ORDER, Centre, FileStatus, ProductionBatch

_SQL = {
    name: sql.load(
        Path(__file__).with_name("sql") / f"{name}.sql",
        FileStatus=FileStatus,
        OutboxStatus=OutboxMessage.Status,
        queue_order=sql.columns("f", QUEUE_ORDER),
        told=sql.fragment(Path(__file__).with_name("sql") / "told.sql"),
    ).sql
    for name in ("hold", "release", "dispatch")
}

S = FileStatus
for _start, _to in [
    (S.ENROLLED, S.ON_HOLD),
    (S.QUEUED, S.ON_HOLD),
    (S.ON_HOLD, S.QUEUED),
    (S.QUEUED, S.IN_PRODUCTION),
]:  # the moves this module makes in SQL: the table must allow them to the service
    assert transitions.system_may(start=_start, to=_to), (_start, _to)

# The messages these moves send, by the one rule of production/notifications.py: hold.sql
# and release.sql write them in their statement; dispatch.sql writes none.
HOLD_KIND = notifications.file_notification_kind(start=S.ENROLLED, to=S.ON_HOLD)
RELEASE_KIND = notifications.file_notification_kind(start=S.ON_HOLD, to=S.QUEUED)
assert notifications.file_notification_kind(start=S.QUEUED, to=S.ON_HOLD) == HOLD_KIND
assert notifications.file_notification_kind(start=S.QUEUED, to=S.IN_PRODUCTION) is None

# The note of every file's move into its centre's batch of the day (the demo's histories
# write the same).
DISPATCH_NOTE = gettext_lazy("Pris en production (lot du jour).")


@dataclass
class BacklogRun:
    held: int = 0
    released: int = 0
    rebooked: int = 0  # displaced appointments booked again
    dispatched: dict[str, int] = field(default_factory=dict)  # centre code -> files

    @property
    def total_dispatched(self) -> int:
        return sum(self.dispatched.values())


def suspended_offices(*, now: datetime) -> dict[int, Suspension]:
    """The offices where a suspension is in force at `now`, each with the one reopening last."""
    rows = Suspension.objects.raw(
        "SELECT DISTINCT ON (o.id) x.*, o.id AS office_id"
        " FROM appointments_office o"
        " CROSS JOIN LATERAL epassport_suspensions_at(o.id, %s) x"
        " ORDER BY o.id, x.reopens_at DESC NULLS FIRST, x.id",
        [now],
    )
    return {row.office_id: row for row in rows}


class RunClock:
    """The moment of a run as it goes on: `start` (the run's `now`) plus the time elapsed
    since. A run of a million files lasts minutes, and a suspension that begins meanwhile
    must stop the next chunk, not wait for the next run."""

    def __init__(self, start: datetime) -> None:
        self.start, self.started = start, monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=monotonic() - self.started)


def _office_suspended(office_id: int, at: datetime) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM epassport_suspensions_at(%s, %s))", [office_id, at]
        )
        return bool(cursor.fetchone()[0])


def _run_in_chunks(sql: str, params: dict, clock=None) -> int:
    """Run a claiming statement (which returns how many rows it claimed first) in chunks
    (core.chunks), each at the moment it runs (`clock`)."""

    def claim(size: int) -> int:
        now = {"now": clock()} if clock is not None else {}
        with connection.cursor() as cursor:
            cursor.execute(sql, {**params, **now, "chunk": size})
            return cursor.fetchone()[0]  # the rows claimed (then, for some, the messages)

    return chunks.claim_in_chunks(claim)


def backlog_hold(*, now: datetime, suspended: dict[int, Suspension]) -> int:
    """Put on hold the files waiting for production at every suspended office."""
    held = 0
    for office_id, suspension in sorted(suspended.items()):
        note = gettext("Service Premium suspendu (suspension n° %(id)s) : %(message)s") % {
            "id": suspension.pk,
            "message": suspension.message,
        }
        params = {
            "office": office_id,
            "suspension": suspension.pk,
            "now": now,
            "note": note,
            "kind": HOLD_KIND,
        }
        held += _run_in_chunks(_SQL["hold"], params)
    return held


def backlog_release(*, now: datetime, clock=None) -> int:
    """Send back to the queue the files the service held, where no suspension is in force
    (when each chunk runs: a suspension beginning during the run holds the next ones)."""
    note = gettext("Service Premium rouvert : dossier remis en file de production.")
    params = {"now": now, "note": note, "kind": RELEASE_KIND}
    return _run_in_chunks(_SQL["release"], params, clock=clock)


def _centre_day_batch(centre: Centre, *, now: datetime) -> ProductionBatch | None:
    """The centre's batch of its local day, created if need be and locked; None when another
    dispatcher holds it (that one fills it)."""
    day = now.astimezone(centre.office.timezone).date()
    ProductionBatch.objects.bulk_create(
        [ProductionBatch(centre=centre, day=day, capacity=centre.daily_capacity)],
        ignore_conflicts=True,
    )
    batch = (
        ProductionBatch.objects.select_for_update(skip_locked=True)
        .filter(centre=centre, day=day)
        .first()
    )
    if batch is not None and batch.capacity < centre.daily_capacity:
        # The capacity was raised during the day: the batch may take more (never less).
        batch.capacity = centre.daily_capacity
        batch.save(update_fields=["capacity"])
    return batch


def backlog_dispatch_centre(*, centre: Centre, now: datetime, clock=None) -> int:
    """Dispatch the centre's queue into its batch of the day, chunk by chunk, up to its
    capacity; returns the number of files taken. Each chunk first checks that no suspension
    has begun at the centre since the run started (`clock`: the moment as the run goes on)."""
    note = str(DISPATCH_NOTE)
    clock = clock or RunClock(now)

    def claim(size: int) -> int:
        if _office_suspended(centre.office_id, clock()):
            return 0
        batch = _centre_day_batch(centre, now=now)
        if batch is None or batch.size >= batch.capacity:
            return 0
        # A chunk that fills the batch claims fewer than `size`: the loop ends, as it should.
        params = {
            "centre": centre.pk,
            "batch": batch.pk,
            "now": now,
            "note": note,
            "chunk": min(size, batch.capacity - batch.size),
        }
        with connection.cursor() as cursor:
            cursor.execute(_SQL["dispatch"], params)
            (count,) = cursor.fetchone()
        return count

    return chunks.claim_in_chunks(claim)


def backlog_dispatch(
    *, now: datetime, suspended: dict[int, Suspension], clock=None
) -> dict[str, int]:
    """Dispatch every centre that is not itself suspended, on the days it works (opening
    hours, no closure): the days the tracking estimate counts (production/workdays.py)."""
    centres = Centre.objects.select_related("office").filter(office__active=True).order_by("pk")
    calendars = workdays.office_calendars(now)
    return {
        centre.office.code: backlog_dispatch_centre(centre=centre, now=now, clock=clock)
        for centre in centres
        if centre.office_id not in suspended and calendars[centre.office_id].works_today(now)
    }


def backlog_run(*, now: datetime | None = None) -> BacklogRun:
    """Bring the files in line with the suspensions in force, then dispatch: what the
    periodic task, the clocked task of a reopening and `manage.py dispatch_backlog` run."""
    now = now or timezone.now()
    clock = RunClock(now)
    suspended = suspended_offices(now=now)
    run = BacklogRun()
    run.held = backlog_hold(now=now, suspended=suspended)
    run.released = backlog_release(now=now, clock=clock)
    run.rebooked = appointment_services.displaced_rebook(now=now)
    # Suspensions again, as they are now: one may have begun while the files were moved.
    run.dispatched = backlog_dispatch(
        now=now, suspended=suspended_offices(now=clock()), clock=clock
    )
    return run


def on_suspension_changed(*, now: datetime, **_signal) -> None:
    """A suspension was made, changed or removed (appointments.signals): hold and release
    at once, in its transaction; the dispatcher does the rest on its next run."""
    backlog_hold(now=now, suspended=suspended_offices(now=now))
    backlog_release(now=now)


def on_suspension_edge(**_signal) -> None:
    """A suspension started or reopened (appointments.signals): the backlog runs now, in its
    own queue and time limits (the task production.backlog_run), once the caller commits."""
    from .tasks import backlog_run

    transaction.on_commit(backlog_run.delay)


# One run at a time: a run that finds another under way leaves at once (no
# pile-up). A session-level advisory lock of PostgreSQL, not a key in Redis: PostgreSQL
# releases it when the process holding it dies, so the run that Celery hands again to a
# worker after one was killed mid-run (reject on worker lost) does the work instead of
# finding a lock left by the dead, and no run depends on Redis.
LOCK_NAME = "production.backlog_run"
_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"


def backlog_run_once(*, now: datetime | None = None) -> BacklogRun | None:
    """backlog_run unless another run holds the lock (None then)."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK, [LOCK_NAME])
        (taken,) = cursor.fetchone()
    if not taken:
        return None
    try:
        return backlog_run(now=now)
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute(_UNLOCK, [LOCK_NAME])
        except DatabaseError:
            pass  # the session is broken, and the lock has gone with it


def backlog_snapshot_take(*, now: datetime | None = None) -> datetime:
    """Record the backlog of every office at the top of the current hour (UTC), one
    BacklogSnapshot each, counted as the dashboard counts (production.dashboard): a second
    run within the hour changes nothing (the first row of an office's hour stays). Three
    statements whatever the number of offices and files. Returns the hour recorded."""
    from datetime import UTC

    from core.models import Office

    from .dashboard import BACKLOG, status_counts
    from .models import BacklogSnapshot

    now = now or timezone.now()
    taken_at = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    counted = [*BACKLOG, FileStatus.IN_PRODUCTION]
    counts = status_counts(statuses=counted)
    BacklogSnapshot.objects.bulk_create(
        [
            BacklogSnapshot(
                office_id=office_id,
                taken_at=taken_at,
                **{status: counts.get(office_id, {}).get(status, 0) for status in counted},
            )
            for office_id in Office.objects.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    return taken_at
