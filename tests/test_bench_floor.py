"""The floor view of the booking-rush benchmark (bench/floor.py) takes seats up to the
capacity, then answers 409 slot_full."""

import json

import pytest
from django.db import connection
from django.test import RequestFactory

from bench.floor import FLOOR_TABLES_SQL, floor_booking


def _post(slot: int, national_id: str):
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
    request = RequestFactory().post(
        "/bench/floor/", data=json.dumps(body), content_type="application/json"
    )
    return floor_booking(request)


@pytest.mark.django_db
def test_floor_books_up_to_capacity_then_answers_slot_full():
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLES_SQL)
        cursor.execute("INSERT INTO bench_floor_slot (id, capacity) VALUES (1, 2), (2, 1)")

    assert _post(1, "BENCH1").status_code == 201
    response = _post(1, "BENCH2")
    assert response.status_code == 201
    assert json.loads(response.content)["slot"] == 1

    full = _post(1, "BENCH3")
    assert full.status_code == 409
    assert json.loads(full.content) == {"code": "slot_full"}
    assert _post(2, "BENCH4").status_code == 201  # another slot still has its seat

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, booked FROM bench_floor_slot ORDER BY id")
        assert cursor.fetchall() == [(1, 2), (2, 1)]
        cursor.execute("SELECT slot_id, count(*) FROM bench_floor_booking GROUP BY 1 ORDER BY 1")
        assert cursor.fetchall() == [(1, 2), (2, 1)]


def test_floor_refuses_get_and_bad_bodies():
    factory = RequestFactory()
    assert floor_booking(factory.get("/bench/floor/")).status_code == 405
    bad = factory.post("/bench/floor/", data="{", content_type="application/json")
    assert floor_booking(bad).status_code == 400
