"""The data of the tracking benchmark (bench/track.py), on Django's database connection: the
benchmark's database in the benchmark, the test database in tests/test_bench_track.py.

Some days after a reopening: 3 production centres and 3 missions (each produced by one
centre, with its pouch days), open Monday to Friday (one mission Monday to Thursday), a
holiday closure of every office next week and one of a centre later; the suspension that
ended yesterday at every office, and one still in force at two missions (reopening in 4
days). Made through the services (`create_offices`), then the files in set-based SQL
(`fill`, bench/track_files.sql), the appointments not yet enrolled
(`add_appointments`, bench/track_appointments.sql) and the lookups wrk draws from
(`write_lookups`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from math import ceil
from pathlib import Path
from typing import NamedTuple

_SQL = {
    name: Path(__file__).with_name(f"track_{name}.sql").read_text()
    for name in ("files", "appointments")
}


class Place(NamedTuple):
    code: str
    kind: str
    city: str
    country: str
    timezone: str
    share: int  # percent of the files enrolled there
    centre: str | None  # a mission's producing centre
    pouch: list[int]  # a mission's pouch weekdays
    days: int  # open Monday to Monday + days - 1


OFFICES = [
    Place("bench-bamako", "centre", "Bamako", "ML", "Africa/Bamako", 35, None, [], 5),
    Place("bench-sikasso", "centre", "Sikasso", "ML", "Africa/Bamako", 12, None, [], 5),
    Place("bench-kayes", "centre", "Kayes", "ML", "Africa/Bamako", 8, None, [], 5),
    Place("bench-paris", "mission", "Paris", "FR", "Europe/Paris", 20, "bench-bamako", [1, 3], 5),
    Place(
        "bench-abidjan", "mission", "Abidjan", "CI", "Africa/Abidjan", 15, "bench-sikasso", [2], 5
    ),
    Place("bench-dakar", "mission", "Dakar", "SN", "Africa/Dakar", 10, "bench-kayes", [0, 3], 4),
]
SUSPENDED = ["bench-abidjan", "bench-dakar"]  # still suspended: their waiting files on hold
CAPACITY_SHARE = 0.02  # a centre's daily capacity: 2% of the files it produces


@dataclass
class Offices:
    """What the SQL needs: office ids weighted by share, their centres, the missions, the
    offices still suspended and that suspension."""

    offices: list[int]  # one entry per percent of the files
    centres: list[int]  # the producing centre of each entry
    missions: list[int]
    suspended: list[int]
    suspension: int
    capacities: dict[str, int]  # by centre's office code


def create_offices(*, files: int, now: datetime) -> Offices:
    """The offices, their calendars and the suspensions, through the services."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from appointments.services import (
        closure_create,
        office_upsert,
        opening_hours_set,
        slots_generate,
        suspension_create,
    )
    from consulates.services import mission_upsert
    from production.services import centre_upsert

    produced = {place.code: place.share for place in OFFICES if place.kind == "centre"}
    for place in OFFICES:
        if place.centre:
            produced[place.centre] += place.share
    with transaction.atomic():
        admin = get_user_model().objects.create_superuser("bench-admin", "admin@example.org")
        made, centres, capacities = {}, {}, {}
        for place in OFFICES:
            office = office_upsert(
                code=place.code,
                name=f"Bureau du banc d’essai de {place.city}",
                name_en=f"Benchmark office of {place.city}",
                kind=place.kind,
                city=place.city,
                country=place.country,
                timezone=place.timezone,
                address=f"Avenue de l’Indépendance, {place.city}",
            )
            opening_hours_set(
                office=office,
                weekdays=list(range(place.days)),
                periods=[(time(8, 0), time(12, 30)), (time(14, 0), time(16, 30))],
                slot_minutes=15,
                counters=4 if place.kind == "centre" else 2,
            )
            if place.centre is None:
                capacity = max(1, ceil(files * produced[place.code] / 100 * CAPACITY_SHARE))
                capacities[place.code] = capacity
                centres[place.code] = centre_upsert(office=office, daily_capacity=capacity)
            else:
                mission_upsert(
                    office=office, centre=centres[place.centre], pouch_weekdays=place.pouch
                )
            made[place.code] = office
        today = now.date()
        closure_create(
            office=None,
            start_date=today + timedelta(days=9),
            end_date=today + timedelta(days=9),
            reason="Jour férié",
        )
        closure_create(
            office=made["bench-bamako"],
            start_date=today + timedelta(days=24),
            end_date=today + timedelta(days=25),
            reason="Maintenance des machines",
        )
        slots_generate(days=14)
        # Every office suspended 12 days ago, reopened yesterday but a few, whose suspension
        # goes on (one suspension at a time per office: the second starts where the first
        # ends).
        suspension_create(
            by=admin,
            starts_at=now - timedelta(days=12),
            reopens_at=now - timedelta(days=1),
            office_codes=None,
            message_fr="Suspendu.",
            history=True,
        )
        still = suspension_create(
            by=admin,
            starts_at=now - timedelta(days=1),
            reopens_at=now + timedelta(days=4),
            office_codes=SUSPENDED,
            message_fr="Suspendu.",
        )
    offices, centre_ids = [], []
    for place in OFFICES:
        offices += [made[place.code].pk] * place.share
        centre_ids += [centres[place.centre or place.code].pk] * place.share
    return Offices(
        offices=offices,
        centres=centre_ids,
        missions=[made[place.code].pk for place in OFFICES if place.centre],
        suspended=[made[code].pk for code in SUSPENDED],
        suspension=still.pk,
        capacities=capacities,
    )


def fill(cursor, *, files: int, offices: Offices, now: datetime, first: int = 1) -> None:
    """`files` passport files numbered from `first`, with their events and batches
    (bench/track_files.sql)."""
    from appointments.validation import REFERENCE_ALPHABET

    cursor.execute(
        _SQL["files"],
        {
            "files": files,
            "first": first,
            "offices": offices.offices,
            "centres": offices.centres,
            "missions": offices.missions,
            "suspended": offices.suspended,
            "suspension": offices.suspension,
            "alphabet": REFERENCE_ALPHABET,
            "now": now,
        },
    )


def add_appointments(cursor, *, count: int, now: datetime, first: int = 1) -> int:
    """Up to `count` booked appointments in the free seats of bookable slots
    (bench/track_appointments.sql); returns how many."""
    from appointments.validation import REFERENCE_ALPHABET

    cursor.execute(
        _SQL["appointments"],
        {"count": count, "first": first, "alphabet": REFERENCE_ALPHABET, "now": now},
    )
    return cursor.rowcount


def write_lookups(cursor, path: Path) -> int:
    """One line "reference birth_date" per file, in file order, for bench/track.lua;
    returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        cursor.copy_expert(
            "COPY (SELECT reference || ' ' || birth_date FROM production_passportfile"
            " ORDER BY id) TO STDOUT",
            out,
        )
    with path.open() as lines:
        return sum(1 for _line in lines)


def statuses(cursor) -> dict[str, int]:
    """Files by status."""
    cursor.execute("SELECT status, count(*) FROM production_passportfile GROUP BY 1 ORDER BY 1")
    return dict(cursor.fetchall())


def samples(cursor, *, per_status: int = 3) -> list[tuple[str, str, date]]:
    """(status, reference, birth date) of a few files of each status (the first ones), and
    of a few appointments not yet enrolled (status "appointment")."""
    cursor.execute(
        """
        SELECT status, reference, birth_date FROM (
            SELECT status, reference, birth_date,
                   row_number() OVER (PARTITION BY status ORDER BY id) AS n
            FROM production_passportfile
        ) AS f WHERE n <= %(n)s
        UNION ALL
        (SELECT 'appointment', reference, birth_date FROM appointments_appointment
         WHERE status = 'booked' ORDER BY id LIMIT %(n)s)
        ORDER BY 1, 2
        """,
        {"n": per_status},
    )
    return cursor.fetchall()
