"""The pieces of the tracking benchmark (bench/track*.py) on small data in the test database:
the files and appointments it builds, its floor view, the check that the API and the floor
agree, and the constant number of queries of a lookup whatever the file's status and the
size of the queue (warm schedule, as in production)."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import Resolver404, resolve
from django.utils import timezone

import bench.settings
from appointments.validation import REFERENCE_ALPHABET, REFERENCE_PATTERN
from bench import track, track_checks, track_data
from bench.load import alternate
from bench.track_floor import track_floor
from production import estimate

FILES = 400
STATUSES = {
    "on_hold",
    "enrolled",
    "queued",
    "in_production",
    "quality_check",
    "in_transit",
    "ready",
    "delivered",
    "rejected",
}
FILE_REFERENCE = re.compile(rf"^D[{REFERENCE_ALPHABET}]{{5}}-[{REFERENCE_ALPHABET}]{{5}}$")


@pytest.fixture
def bench_urls(settings):
    """The benchmark's URLconf, as its server runs it, and lookups never rate limited."""
    settings.ROOT_URLCONF = bench.settings.ROOT_URLCONF
    settings.TRACK_RATE = settings.TRACK_REFERENCE_RATE = track.UNREACHED_RATE


@pytest.fixture
def offices(db) -> track_data.Offices:
    return track_data.create_offices(files=FILES, now=timezone.now())


@pytest.fixture
def data(offices) -> track_data.Offices:
    """400 files and 30 appointments."""
    with connection.cursor() as cursor:
        track_data.fill(cursor, files=FILES, offices=offices, now=timezone.now())
        assert track_data.add_appointments(cursor, count=30, now=timezone.now()) == 30
    return offices


@pytest.fixture
def warm_schedule(settings):
    """The estimate's schedule kept as in production (the root conftest reads it afresh at
    each lookup), forgotten before and after."""
    settings.TRACKING_SCHEDULE_TTL = 60
    estimate.schedule_forget()
    yield
    estimate.schedule_forget()


def _rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_files_stand_as_some_days_after_a_reopening(data):
    with connection.cursor() as cursor:
        found = track_data.statuses(cursor)
    assert set(found) == STATUSES
    assert sum(found.values()) == FILES
    assert found["queued"] > found["on_hold"] > found["in_production"] > found["rejected"]
    references = [r for (r,) in _rows("SELECT reference FROM production_passportfile")]
    assert all(FILE_REFERENCE.match(reference) for reference in references)
    assert len(set(references)) == FILES
    assert _rows("SELECT count(*) FROM production_passportfile WHERE birth_date IS NULL") == [(0,)]


def test_each_file_has_the_events_of_its_way(data):
    # Events in order: the first from nothing to enrolled, each from the previous one's
    # status, the last to the file's own status; 1 to 7 of them.
    wrong = _rows(
        """
        SELECT f.reference, f.status, array_agg(e.from_status || '>' || e.to_status
                                                ORDER BY e.at, e.id)
        FROM production_passportfile f JOIN production_fileevent e ON e.file_id = f.id
        GROUP BY f.id
        HAVING (array_agg(e.to_status ORDER BY e.at DESC, e.id DESC))[1] <> f.status
            OR (array_agg(e.from_status || '>' || e.to_status ORDER BY e.at, e.id))[1]
               <> '>enrolled'
            OR count(*) NOT BETWEEN 1 AND 7
            OR max(e.at) > clock_timestamp()
        """
    )
    assert wrong == []
    chains = _rows(
        "SELECT e.from_status, lag(e.to_status) OVER (PARTITION BY e.file_id ORDER BY e.at,"
        " e.id) FROM production_fileevent e"
    )
    assert all(previous is None or previous == start for start, previous in chains)
    # A mission's passport travels by pouch; a centre's never does.
    travelled = _rows(
        """
        SELECT o.kind, bool_or(e.to_status = 'in_transit')
        FROM production_passportfile f
        JOIN appointments_office o ON o.id = f.office_id
        JOIN production_fileevent e ON e.file_id = f.id
        WHERE f.status IN ('ready', 'delivered')
        GROUP BY f.id, o.kind
        """
    )
    assert dict(travelled) == {"centre": False, "mission": True}


def test_held_files_belong_to_the_suspension_still_in_force(data):
    held = _rows(
        "SELECT DISTINCT office_id, suspension_id, status FROM production_passportfile"
        " WHERE held_by_service"
    )
    assert {(office, suspension) for office, suspension, _status in held} <= {
        (office, data.suspension) for office in data.suspended
    }
    assert {status for *_ids, status in held} == {"on_hold"}
    waiting_there = _rows(
        "SELECT count(*) FROM production_passportfile"
        " WHERE office_id = ANY(%s) AND status IN ('enrolled', 'queued')",
        [data.suspended],
    )
    assert waiting_there == [(0,)]


def test_files_in_production_fill_their_centres_batches_within_capacity(data):
    batches = _rows(
        """
        SELECT b.size, b.capacity, c.daily_capacity, count(f.id),
               bool_and(f.centre_id = b.centre_id AND f.status = 'in_production')
        FROM production_productionbatch b
        JOIN production_centre c ON c.id = b.centre_id
        LEFT JOIN production_passportfile f ON f.batch_id = b.id
        GROUP BY b.id, c.daily_capacity
        """
    )
    assert batches
    for size, capacity, daily, files, own in batches:
        assert size == files <= capacity == daily
        assert own
    assert _rows(
        "SELECT count(*) FROM production_passportfile"
        " WHERE status = 'in_production' AND batch_id IS NULL"
    ) == [(0,)]


def test_appointments_take_free_seats_of_bookable_slots(data):
    appointments = _rows(
        "SELECT a.reference, a.status, s.starts_at > now(), a.office_id = ANY(%s)"
        " AND s.starts_at < now() + interval '4 days'"
        " FROM appointments_appointment a JOIN appointments_slot s ON s.id = a.slot_id",
        [data.suspended],
    )
    assert len(appointments) == 30
    for reference, status, future, in_suspension in appointments:
        assert REFERENCE_PATTERN.match(reference)
        assert (status, future, in_suspension) == ("booked", True, False)
    miscounted = _rows(
        "SELECT s.id FROM appointments_slot s"
        " LEFT JOIN appointments_appointment a ON a.slot_id = s.id"
        " GROUP BY s.id HAVING s.booked <> count(a.id)"
    )
    assert miscounted == []


@pytest.mark.django_db
def test_the_floor_reads_a_file_and_its_events(client, data, bench_urls):
    (file_id, reference, birth_date, status), *_ = _rows(
        "SELECT id, reference, birth_date, status FROM production_passportfile"
        " WHERE status = 'delivered' ORDER BY id LIMIT 1"
    )
    events = _rows(
        "SELECT to_status, at FROM production_fileevent WHERE file_id = %s ORDER BY at, id",
        [file_id],
    )
    response = client.get(
        "/bench/track-floor/", {"reference": reference, "birth_date": birth_date.isoformat()}
    )
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "reference": reference,
        "status": status,
        "timeline": [{"status": to, "at": at.isoformat()} for to, at in events],
    }
    wrong_date = {"reference": reference, "birth_date": (birth_date + timedelta(1)).isoformat()}
    for query in [wrong_date, {"reference": "DXXXXX-XXXXX", "birth_date": "1990-01-01"}]:
        response = client.get("/bench/track-floor/", query)
        assert (response.status_code, json.loads(response.content)) == (
            404,
            {"code": "not_found"},
        )
    bad = client.get("/bench/track-floor/", {"reference": reference, "birth_date": "1990-13-01"})
    assert bad.status_code == 400
    assert client.post("/bench/track-floor/").status_code == 405


def test_only_the_benchmark_urlconf_serves_the_track_floor():
    assert resolve("/bench/track-floor/", urlconf="bench.urls").func is track_floor
    with pytest.raises(Resolver404):
        resolve("/bench/track-floor/", urlconf="epassport.urls")


def test_the_api_and_the_floor_agree_and_the_check_sees_a_difference(client, data, bench_urls):
    with connection.cursor() as cursor:
        samples = track_data.samples(cursor, per_status=2)
    assert {status for status, *_ in samples} == STATUSES | {"appointment"}
    get = track_checks.client_get(client)
    assert track_checks.compare(get, samples) == []

    _status, reference, birth_date = next(s for s in samples if s[0] == "queued")
    wrong = track_checks.compare(get, [("ready", reference, birth_date)])
    assert wrong == [f"{reference}: status queued (API), queued"]


def _lookup_queries(client) -> dict[str, list[int]]:
    with connection.cursor() as cursor:
        samples = track_data.samples(cursor, per_status=3)
    return track_checks.queries_per_lookup(client, samples)


def test_a_lookup_costs_the_same_queries_whatever_the_status_and_the_queue(
    client, offices, bench_urls, warm_schedule
):
    def queued() -> int:
        return _rows("SELECT count(*) FROM production_passportfile WHERE status = 'queued'")[0][0]

    now = timezone.now()
    with connection.cursor() as cursor:
        track_data.fill(cursor, files=30, offices=offices, now=now)
        track_data.add_appointments(cursor, count=3, now=now)
    small_queue = queued()
    small = _lookup_queries(client)

    with connection.cursor() as cursor:
        track_data.fill(cursor, files=1300, offices=offices, now=now, first=31)
    estimate.schedule_forget()
    large_queue = queued()
    large = _lookup_queries(client)

    assert small_queue <= 15
    assert large_queue >= 500
    assert set(large) == STATUSES | {"appointment"}
    counts = {
        n for status, ns in [*small.items(), *large.items()] if status != "appointment" for n in ns
    }
    assert counts == {1}  # the file, its batch's day and its events in one statement
    assert set(small["appointment"] + large["appointment"]) == {1}


def test_the_command_line_and_the_server_settings():
    args = track.parse_args([])
    assert (args.files, args.clients, args.rounds) == (200_000, 32, 4)
    assert args.worker_class == "sync"
    assert args.workers >= 3
    rounds = list(alternate(["floor", "track"], 3))
    assert rounds == ["floor", "track", "track", "floor", "floor", "track"]
    env = track.server_env(args)
    assert env["RATE_LIMITS"] == "true"
    assert env["DEBUG"] == "false"
    assert env["TRACK_RATE"] == env["TRACK_REFERENCE_RATE"] == track.UNREACHED_RATE
    assert env["CONN_MAX_AGE"] == "60"
    assert env["TRACKING_SCHEDULE_TTL"] == "60"
    lookups = track.Lookups("/api/v1/track/", track_data.Path("out/track.lookups"))
    assert lookups.environment(2) == {"TRACK_LOOKUPS": "out/track.lookups"}
    assert lookups.script.name == "track.lua"
    assert lookups.script.exists()
    with pytest.raises(SystemExit):  # the database is dropped: only a benchmark's
        track.parse_args(["--database-url", "postgres://postgres@127.0.0.1/epassport"])
