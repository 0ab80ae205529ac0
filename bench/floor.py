"""The floor of the booking-rush benchmark (bench/booking_rush.py).

A bare WSGI function that does only what a booking cannot avoid: the two SQL statements of
a seat reservation, a conditional update of the slot's counter and the insert of the
booking, in one transaction, with psycopg2 on one connection per worker process: no Django,
no middleware, no framework. The benchmark serves it from the same gunicorn, with the same
workers and clients, in the same run, as the real booking API (bench/wsgi.py routes
/bench/floor/ to it), so that the API's throughput is read as a fraction of this floor
rather than as a bare time on a noisy machine.

Its two tables, bench_floor_slot and bench_floor_booking, are created with raw SQL by the
benchmark's set-up (FLOOR_TABLES_SQL), never by a migration.
"""

import json
import os
import secrets
from urllib.parse import parse_qs, unquote, urlparse

import psycopg2

FLOOR_TABLES_SQL = """
CREATE TABLE bench_floor_slot (
    id bigint PRIMARY KEY,
    capacity smallint NOT NULL CHECK (capacity > 0),
    booked smallint NOT NULL DEFAULT 0,
    CHECK (booked >= 0 AND booked <= capacity)
);
CREATE TABLE bench_floor_booking (
    id bigserial PRIMARY KEY,
    reference varchar(16) NOT NULL,
    slot_id bigint NOT NULL REFERENCES bench_floor_slot (id),
    surname varchar(100) NOT NULL,
    given_names varchar(150) NOT NULL,
    birth_date date NOT NULL,
    national_id varchar(20) NOT NULL,
    email varchar(254) NOT NULL,
    phone varchar(16) NOT NULL,
    language varchar(2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

_UPDATE = "UPDATE bench_floor_slot SET booked = booked + 1 WHERE id = %s AND booked < capacity"
_INSERT = (
    "INSERT INTO bench_floor_booking (reference, slot_id, surname, given_names, birth_date,"
    " national_id, email, phone, language) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


_connection = None


def _connect():
    """The worker's connection, opened on first use (after gunicorn forked the worker)."""
    global _connection
    if _connection is None or _connection.closed:
        url = urlparse(os.environ["DATABASE_URL"])
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        _connection = psycopg2.connect(
            dbname=url.path.lstrip("/"),
            user=unquote(url.username or ""),
            password=unquote(url.password or "") or None,
            host=url.hostname or query.get("host"),  # a socket's folder in the query
            port=url.port or query.get("port"),
        )
    return _connection


def _answer(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def floor_booking(environ, start_response) -> list[bytes]:
    """POST {slot, surname, given_names, birth_date, national_id, email, phone, language}:
    201 {reference, slot} when a seat was taken, 409 {code: slot_full} otherwise."""
    if environ.get("REQUEST_METHOD") != "POST":
        return _answer(start_response, "405 Method Not Allowed", {"code": "method"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = json.loads(environ["wsgi.input"].read(length))
        slot = int(data["slot"])
    except (ValueError, KeyError, TypeError):
        return _answer(start_response, "400 Bad Request", {"code": "invalid"})
    reference = secrets.token_hex(4).upper()
    connection = _connect()
    with connection, connection.cursor() as cursor:  # one transaction, committed on exit
        cursor.execute(_UPDATE, [slot])
        if cursor.rowcount != 1:
            return _answer(start_response, "409 Conflict", {"code": "slot_full"})
        cursor.execute(
            _INSERT,
            [
                reference,
                slot,
                data.get("surname", ""),
                data.get("given_names", ""),
                data.get("birth_date", "1990-01-01"),
                data.get("national_id", ""),
                data.get("email", ""),
                data.get("phone", ""),
                data.get("language", "fr"),
            ],
        )
    return _answer(start_response, "201 Created", {"reference": reference, "slot": slot})
