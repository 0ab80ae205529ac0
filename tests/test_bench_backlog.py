"""The pieces of the backlog benchmark (bench/backlog_sql.py) on a tiny queue in the test
database: the queue it builds, its floor statement, which must leave the same rows as the
dispatcher (production/backlog.py) it is compared with, and the exactly-once check, which
must pass after either and see what breaks it."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bench import backlog, backlog_sql
from production.backlog import backlog_run

FILES = 50


@pytest.fixture
def queue(db) -> list[tuple[int, int]]:
    """50 queued files over 2 centres, each with capacity for its 25."""
    centres = backlog_sql.create_centres(count=2, capacity=FILES // 2)
    with connection.cursor() as cursor:
        backlog_sql.fill(cursor, files=FILES, centres=centres, now=timezone.now())
    return centres


def _rows() -> list[tuple]:
    """Every file with its batch and its events, as comparable values (no ids, no times)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT f.reference, f.status, o.code, b.day, b.capacity, b.size,
                   array_agg((e.from_status, e.to_status, e.by_id, e.note)::text
                             ORDER BY e.id)
            FROM production_passportfile f
            JOIN production_centre c ON c.id = f.centre_id
            JOIN appointments_office o ON o.id = c.office_id
            LEFT JOIN production_productionbatch b ON b.id = f.batch_id
            LEFT JOIN production_fileevent e ON e.file_id = f.id
            GROUP BY 1, 2, 3, 4, 5, 6
            ORDER BY 1
            """
        )
        return cursor.fetchall()


def test_the_queue_is_queued_over_the_centres(queue):
    with connection.cursor() as cursor:
        found = backlog_sql.counts(cursor)
        cursor.execute(
            "SELECT centre_id, count(*), count(DISTINCT reference), min(due_date) < max(due_date)"
            " FROM production_passportfile WHERE status = 'queued' GROUP BY 1 ORDER BY 1"
        )
        per_centre = cursor.fetchall()
    assert found["files"] == found["queued"] == FILES
    assert found["in_production"] == found["production_events"] == found["batches"] == 0
    assert per_centre == [(centre, 25, 25, True) for centre, _office in queue]


def test_the_floor_leaves_the_rows_the_dispatcher_leaves(queue):
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            assert backlog_sql.floor(cursor, now=now) == FILES
            found, wrong = backlog_sql.check(cursor, files=FILES)
        floor_rows = _rows()
        transaction.set_rollback(True)  # the dispatcher starts from the same queue
    assert wrong == []
    assert found["batches"] == 2

    run = backlog_run(now=now)
    assert run.total_dispatched == FILES
    with connection.cursor() as cursor:
        found, wrong = backlog_sql.check(cursor, files=FILES)
    assert wrong == []
    assert _rows() == floor_rows
    assert floor_rows[0][1] == "in_production"


def test_the_check_sees_what_breaks_exactly_once(queue):
    with connection.cursor() as cursor:
        _found, wrong = backlog_sql.check(cursor, files=FILES)
        assert "in_production: 0, not 50" in wrong
        assert "queued: 50" in wrong

        backlog_sql.floor(cursor, now=timezone.now())
        cursor.execute(
            "INSERT INTO production_fileevent (file_id, from_status, to_status, at, note)"
            " SELECT id, 'queued', 'in_production', now(), '' FROM production_passportfile"
            " ORDER BY id LIMIT 1"
        )
        cursor.execute(
            "UPDATE production_productionbatch SET size = size - 1"
            " WHERE id = (SELECT min(id) FROM production_productionbatch)"
        )
        cursor.execute(
            "UPDATE production_passportfile SET status = 'queued', batch_id = NULL"
            " WHERE id = (SELECT max(id) FROM production_passportfile"
            "  WHERE batch_id <> (SELECT min(id) FROM production_productionbatch))"
        )
        _found, wrong = backlog_sql.check(cursor, files=FILES)
    assert wrong == [
        "in_production: 49, not 50",
        "production_events: 51, not 50",
        "queued: 1",
        "files_without_one_event: 1",
        "batches_miscounted: 2",
    ]


def test_the_command_alternates_its_phases_and_sets_the_goal_by_size():
    args = backlog.parse_args(["--workers", "1,2", "--rounds", "2"])
    assert args.goal == 2.0
    assert backlog.parse_args(["--files", "1000000"]).goal == 2.5
    assert backlog.plan(args) == [
        (1, "floor", 0),
        (1, "dispatcher x1", 1),
        (1, "dispatcher x2", 2),
        (2, "dispatcher x2", 2),
        (2, "dispatcher x1", 1),
        (2, "floor", 0),
    ]
    with pytest.raises(SystemExit):  # the database is dropped: only a benchmark's
        backlog.parse_args(["--database-url", "postgres://postgres@127.0.0.1/epassport"])


def test_the_chunk_size_printed_is_the_one_the_dispatcher_uses():
    from core import chunks

    assert backlog.chunk_size() == chunks.CHUNK
