"""The floor view of the booking-rush benchmark (bench/floor.py), served at /bench/floor/ by
the benchmark's settings (bench/settings.py), takes seats up to the capacity, then answers
409 slot_full. The portal's own URLconf does not serve it."""

import json

import pytest
from django.db import connection
from django.urls import Resolver404, resolve

import bench.settings
from bench.floor import FLOOR_TABLES_SQL, floor_booking


@pytest.fixture
def bench_urls(settings):
    """The benchmark's URLconf, as its server runs it."""
    settings.ROOT_URLCONF = bench.settings.ROOT_URLCONF


def _post(client, slot: int, national_id: str):
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
    return client.post("/bench/floor/", data=json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_floor_books_up_to_capacity_then_answers_slot_full(client, bench_urls):
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLES_SQL)
        cursor.execute("INSERT INTO bench_floor_slot (id, capacity) VALUES (1, 2), (2, 1)")

    assert _post(client, 1, "BENCH1").status_code == 201
    response = _post(client, 1, "BENCH2")
    assert response.status_code == 201
    assert json.loads(response.content)["slot"] == 1

    full = _post(client, 1, "BENCH3")
    assert full.status_code == 409
    assert json.loads(full.content) == {"code": "slot_full"}
    assert _post(client, 2, "BENCH4").status_code == 201  # another slot still has its seat

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, booked FROM bench_floor_slot ORDER BY id")
        assert cursor.fetchall() == [(1, 2), (2, 1)]
        cursor.execute("SELECT slot_id, count(*) FROM bench_floor_booking GROUP BY 1 ORDER BY 1")
        assert cursor.fetchall() == [(1, 2), (2, 1)]


@pytest.mark.django_db
def test_floor_refuses_get_and_bad_bodies(client, bench_urls):
    assert client.get("/bench/floor/").status_code == 405
    bad = client.post("/bench/floor/", data="{", content_type="application/json")
    assert bad.status_code == 400


def test_only_the_benchmark_urlconf_serves_the_floor():
    assert resolve("/bench/floor/", urlconf="bench.urls").func is floor_booking
    assert resolve("/healthz", urlconf="bench.urls").url_name == "healthz"  # the portal's too
    with pytest.raises(Resolver404):
        resolve("/bench/floor/", urlconf="epassport.urls")
