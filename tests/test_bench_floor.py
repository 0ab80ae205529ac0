"""The floor of the booking-rush benchmark (bench/floor.py): a bare WSGI function, served in
front of Django at /bench/floor/ by the benchmark's application (bench/wsgi.py), takes seats
up to the capacity with its own psycopg2 connection, then answers 409 slot_full. The
portal's own URLconf does not serve it."""

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.db import connection
from django.urls import Resolver404, resolve

from bench import floor, wsgi
from bench.floor import FLOOR_TABLES_SQL
from tests.support import database_url


@pytest.fixture
def floor_tables(transactional_db, monkeypatch):
    # The floor opens its own connection, to the test database: its tables must be committed.
    monkeypatch.setenv("DATABASE_URL", database_url())
    monkeypatch.setattr(floor, "_connection", None)
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLES_SQL)
        cursor.execute("INSERT INTO bench_floor_slot (id, capacity) VALUES (1, 2), (2, 1)")
    yield
    if floor._connection is not None:
        floor._connection.close()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor_booking, bench_floor_slot")


def call(method: str, body: bytes = b"", path: str = "/bench/floor/") -> tuple[str, dict]:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body))}
    setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    seen = {}
    answer = wsgi.application(environ, lambda status, headers: seen.update(status=status))
    return seen["status"], json.loads(b"".join(answer))


def post(slot: int, national_id: str) -> tuple[str, dict]:
    body = {
        "slot": slot,
        "surname": "TRAORE",
        "given_names": "Awa",
        "birth_date": "1990-01-01",
        "national_id": national_id,
        "email": "awa@example.com",
        "phone": "+22376123456",
        "language": "fr",
    }
    return call("POST", json.dumps(body).encode())


def test_floor_books_up_to_capacity_then_answers_slot_full(floor_tables):
    assert post(1, "BENCH1")[0] == "201 Created"
    status, body = post(1, "BENCH2")
    assert (status, body["slot"]) == ("201 Created", 1)

    assert post(1, "BENCH3") == ("409 Conflict", {"code": "slot_full"})
    assert post(2, "BENCH4")[0] == "201 Created"  # another slot still has its seat

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, booked FROM bench_floor_slot ORDER BY id")
        assert cursor.fetchall() == [(1, 2), (2, 1)]
        cursor.execute("SELECT slot_id, count(*) FROM bench_floor_booking GROUP BY 1 ORDER BY 1")
        assert cursor.fetchall() == [(1, 2), (2, 1)]


def test_floor_refuses_get_and_bad_bodies(floor_tables):
    assert call("GET")[0].startswith("405")
    assert call("POST", b"{")[0].startswith("400")


def test_only_the_benchmark_application_serves_the_floor():
    with pytest.raises(Resolver404):
        resolve("/bench/floor/", urlconf="epassport.urls")
    with pytest.raises(Resolver404):
        resolve("/bench/floor/", urlconf="bench.urls")
    assert resolve("/healthz", urlconf="bench.urls").url_name == "healthz"  # the portal's too
