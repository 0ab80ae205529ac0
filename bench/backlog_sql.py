"""The data, the floor and the check of the backlog benchmark (bench/backlog.py), in SQL
(bench/backlog_*.sql), on any DB-API cursor of PostgreSQL: psycopg2's in the benchmark,
Django's in its test (tests/test_bench_backlog.py).

- `create_centres`: the centres, through the services (in Django, on its database);
- `fill`: the queue of passport files, one statement;
- `floor`: the dispatcher's work in one set-based statement;
- `check`: exactly-once, counted from the rows, and what is wrong with them.
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

_SQL = {
    name: Path(__file__).with_name(f"backlog_{name}.sql").read_text()
    for name in ("files", "floor", "verify")
}
FLOOR_NOTE = "Pris en production (lot du jour)."


def create_centres(*, count: int, capacity: int) -> list[tuple[int, int]]:
    """`count` offices of kind centre, each a production centre of `daily_capacity`
    `capacity`, through the services (appointments.office_upsert, production.centre_upsert);
    returns their (centre id, office id)."""
    from django.db import transaction

    from appointments.services import office_upsert, opening_hours_set
    from production.services import centre_upsert

    made = []
    with transaction.atomic():
        for number in range(1, count + 1):
            office = office_upsert(
                code=f"bench-centre-{number}",
                name=f"Centre du banc d’essai {number}",
                name_en=f"Benchmark centre {number}",
                kind="centre",
                city="Bamako",
                country="ML",
                timezone="Africa/Bamako",
            )
            # Open every day: the dispatcher takes a batch only on a day its centre works,
            # and the benchmark may run on any day.
            opening_hours_set(
                office=office,
                weekdays=list(range(7)),
                periods=[(time(0), time(23, 59))],
                slot_minutes=60,
                counters=1,
            )
            centre = centre_upsert(office=office, daily_capacity=capacity)
            made.append((centre.pk, office.pk))
    return made


def fill(cursor, *, files: int, centres: list[tuple[int, int]], now: datetime) -> None:
    """`files` queued passport files spread in turn over `centres` (centre id, office id),
    each with its event (bench/backlog_files.sql)."""
    cursor.execute(
        _SQL["files"],
        {
            "files": files,
            "centres": [centre for centre, _office in centres],
            "offices": [office for _centre, office in centres],
            "now": now,
        },
    )


def floor(cursor, *, now: datetime) -> int:
    """The floor (bench/backlog_floor.sql): every queued file into production in one
    statement; returns the number of events written."""
    cursor.execute(_SQL["floor"], {"now": now, "note": FLOOR_NOTE})
    return cursor.rowcount


def counts(cursor) -> dict[str, int]:
    """The figures of bench/backlog_verify.sql, by name."""
    cursor.execute(_SQL["verify"])
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def problems(found: dict[str, int], *, files: int) -> list[str]:
    """What breaks exactly-once in `found` (from `counts`) for a queue of `files` files and
    capacity for all: every file in production once, with one event, in a batch of its
    centre that counts it, within capacity, none left queued."""
    wrong = []
    if found["files"] != files:
        wrong.append(f"{found['files']} files in the database, not {files}")
    for name, wanted in [("in_production", files), ("production_events", files)]:
        if found[name] != wanted:
            wrong.append(f"{name}: {found[name]}, not {wanted}")
    for name in [
        "queued",
        "files_without_one_event",
        "files_outside_their_batch",
        "batches_miscounted",
        "batches_over_capacity",
    ]:
        if found[name]:
            wrong.append(f"{name}: {found[name]}")
    return wrong


def check(cursor, *, files: int) -> tuple[dict[str, int], list[str]]:
    """`counts` and their `problems`."""
    found = counts(cursor)
    return found, problems(found, files=files)
