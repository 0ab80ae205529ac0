"""The backlog: files held while a suspension is in force, released when it ends (also when
the clocked task of the reopening never ran), and dispatched into each centre's production
batch up to its daily capacity, in priority order, exactly once even with several
dispatchers at once."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from appointments import services
from appointments.models import Suspension
from appointments.tests.factories import member
from core import chunks
from production import backlog
from production.models import FileEvent, FileStatus, PassportFile, ProductionBatch
from production.tests.factories import CentreFactory, PassportFileFactory
from tests.support import run_together

pytestmark = pytest.mark.django_db

NOON = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)  # Monday, reopening day, Bamako = UTC


def queued(centre, n, **fields):
    return PassportFileFactory.create_batch(
        n, centre=centre, office=centre.office, status=FileStatus.QUEUED, **fields
    )


def test_the_dispatcher_takes_the_queue_in_priority_order_up_to_the_capacity(bamako):
    bamako.daily_capacity = 3
    bamako.save(update_fields=["daily_capacity"])
    late = queued(bamako, 2, due_date=date(2025, 12, 10))
    urgent = queued(bamako, 2, due_date=date(2025, 12, 1))

    run = backlog.backlog_run(now=NOON)

    assert run.dispatched == {"bko-centre": 3}
    taken = set(PassportFile.objects.filter(status="in_production").values_list("pk", flat=True))
    assert taken == {urgent[0].pk, urgent[1].pk, late[0].pk}  # due date, then enrolment
    batch = ProductionBatch.objects.get()
    assert (batch.centre_id, batch.day, batch.size, batch.capacity) == (
        bamako.pk,
        date(2025, 11, 24),
        3,
        3,
    )
    events = FileEvent.objects.filter(to_status="in_production")
    assert events.count() == 3
    assert {(e.from_status, e.by_id, e.at) for e in events} == {("queued", None, NOON)}
    # The same day, the batch is full; the next day, the rest goes.
    assert backlog.backlog_run(now=NOON + timedelta(hours=3)).dispatched == {"bko-centre": 0}
    assert backlog.backlog_run(now=NOON + timedelta(days=1)).dispatched == {"bko-centre": 1}


def test_the_day_is_the_centre_s_local_day(bamako):
    bamako.office.timezone = "Asia/Tokyo"  # a centre nine hours ahead of UTC
    bamako.office.save(update_fields=["timezone"])
    queued(bamako, 1)
    backlog.backlog_run(now=datetime(2025, 11, 24, 20, 0, tzinfo=UTC))
    assert ProductionBatch.objects.get().day == date(2025, 11, 25)


def test_a_batch_over_its_capacity_is_refused_by_the_database(bamako):
    batch = ProductionBatch.objects.create(centre=bamako, day=NOON.date(), capacity=2, size=2)
    with pytest.raises(IntegrityError, match="batch_within_capacity"), transaction.atomic():
        ProductionBatch.objects.filter(pk=batch.pk).update(size=3)
    with pytest.raises(IntegrityError, match="batch_one_per_centre_day"), transaction.atomic():
        ProductionBatch.objects.create(centre=bamako, day=NOON.date(), capacity=2)


def test_a_suspension_holds_the_waiting_files_and_its_end_releases_them(paris, bamako):
    admin = member("admin")
    waiting = PassportFileFactory(centre=bamako, office=paris.office, status="enrolled")
    queued_file = PassportFileFactory(centre=bamako, office=paris.office, status="queued")
    produced = PassportFileFactory(centre=bamako, office=paris.office, status="in_production")
    elsewhere = queued(bamako, 1)[0]
    before = NOON - timedelta(days=3)

    suspension = services.suspension_create(
        by=admin,
        starts_at=before,
        reopens_at=NOON,
        office_codes=[paris.office.code],
        message_fr="Suspension technique.",
        now=before,
    )

    statuses = dict(PassportFile.objects.values_list("pk", "status"))
    assert statuses[waiting.pk] == statuses[queued_file.pk] == "on_hold"
    assert statuses[produced.pk] == "in_production"  # already being made: it goes on
    assert statuses[elsewhere.pk] == "queued"  # another office
    holds = FileEvent.objects.filter(to_status="on_hold")
    assert sorted(holds.values_list("from_status", flat=True)) == ["enrolled", "queued"]
    assert all(e.by_id is None and f"n° {suspension.pk}" in e.note for e in holds)
    # While it lasts, Bamako dispatches its own files but not the held ones of Paris.
    run = backlog.backlog_run(now=NOON - timedelta(hours=1))
    assert (run.held, run.released, run.dispatched["bko-centre"]) == (0, 0, 1)

    # The reopening passes and no clocked task runs: the next dispatcher run releases.
    run = backlog.backlog_run(now=NOON + timedelta(minutes=5))
    assert run.released == 2
    assert run.dispatched["bko-centre"] == 2
    released = FileEvent.objects.filter(from_status="on_hold", to_status="queued")
    assert set(released.values_list("file_id", flat=True)) == {waiting.pk, queued_file.pk}
    assert not PassportFile.objects.filter(held_by_service=True).exists()
    # A run again changes nothing (idempotent).
    again = backlog.backlog_run(now=NOON + timedelta(minutes=10))
    assert (again.held, again.released, again.total_dispatched) == (0, 0, 0)


def test_a_file_held_by_a_supervisor_is_not_released_by_the_service(paris, bamako):
    file = PassportFileFactory(centre=bamako, office=paris.office, status="on_hold")
    assert backlog.backlog_run(now=NOON).released == 0
    file.refresh_from_db()
    assert file.status == "on_hold"


def test_a_suspended_centre_dispatches_nothing(bamako):
    queued(bamako, 2)
    suspension = Suspension.objects.create(starts_at=NOON - timedelta(days=1), message="Fermé.")
    suspension.offices.add(bamako.office)
    run = backlog.backlog_run(now=NOON)
    assert run.dispatched == {}
    assert run.held == 2  # its own files wait on hold
    assert not ProductionBatch.objects.exists()


def test_a_suspension_beginning_during_a_run_stops_its_next_chunk(bamako, monkeypatch):
    """A run reads the suspensions as it goes: one that begins while it dispatches stops the
    next chunk at that centre, and the files left are held, not sent to production."""
    monkeypatch.setattr(chunks, "CHUNK", 2)
    queued(bamako, 5)
    suspension = Suspension.objects.create(
        starts_at=NOON + timedelta(minutes=1), message="Panne de l'imprimante."
    )
    suspension.offices.add(bamako.office)
    moments = iter([NOON])  # the first chunk runs at noon; the next ones after 12:01

    def clock():
        return next(moments, NOON + timedelta(minutes=2))

    taken = backlog.backlog_dispatch_centre(centre=bamako, now=NOON, clock=clock)
    assert taken == 2
    assert PassportFile.objects.filter(status="in_production").count() == 2
    run = backlog.backlog_run(now=NOON + timedelta(minutes=2))
    assert run.held == 3
    assert run.dispatched == {}


def test_a_run_clock_moves_with_time():
    clock = backlog.RunClock(NOON)
    first, second = clock(), clock()
    assert NOON <= first <= second < NOON + timedelta(seconds=5)


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_take_every_file_once_within_capacity(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK", 7)  # many chunks, so that the runs interleave
    centres = [CentreFactory(daily_capacity=40, office__code=f"centre-{n}") for n in range(3)]
    for centre in centres:
        queued(centre, 50)

    results = run_together([lambda: backlog.backlog_run(now=NOON) for _ in range(4)])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(run.total_dispatched for run in results) == 120
    for centre in centres:
        files = PassportFile.objects.filter(centre=centre)
        assert files.filter(status="in_production").count() == 40
        assert ProductionBatch.objects.get(centre=centre).size == 40
    assert FileEvent.objects.filter(to_status="in_production").count() == 120
    # No file moved twice.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT file_id FROM production_fileevent"
            " WHERE to_status = 'in_production' GROUP BY file_id HAVING count(*) > 1) twice"
        )
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db(transaction=True)
def test_a_run_that_finds_another_under_way_leaves_at_once(bamako):
    queued(bamako, 1)
    inside, leave = threading.Event(), threading.Event()
    real = backlog.backlog_run

    def slow_run(**kwargs):
        inside.set()
        leave.wait(10)
        return real(**kwargs)

    def in_a_thread():
        try:
            backlog.backlog_run_once()
        finally:
            connection.close()

    backlog.backlog_run = slow_run
    try:
        first = threading.Thread(target=in_a_thread)
        first.start()
        assert inside.wait(10)
        assert backlog.backlog_run_once() is None  # the lock is taken: no pile-up
        leave.set()
        first.join(10)
    finally:
        backlog.backlog_run = real
    assert backlog.backlog_run_once() is not None  # and it was given back


def test_the_command_runs_the_backlog_and_says_what_it_did(bamako, capsys):
    queued(bamako, 2)
    call_command("dispatch_backlog")
    out = capsys.readouterr().out
    assert "dispatched at bko-centre: 2" in out
    assert "dispatched in all: 2" in out
    assert PassportFile.objects.filter(status="in_production").count() == 2
