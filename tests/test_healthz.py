"""/healthz: database, Redis and Celery, each 'ok' or an error text; 200 only if all are ok."""

import time

import pytest
from django.conf import settings

from epassport import health

pytestmark = pytest.mark.django_db


def test_all_ok_answers_200(client):
    health.record_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "celery": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_without_a_heartbeat_celery_is_reported_down(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert body["celery"].startswith("error: no heartbeat")


def test_a_stale_heartbeat_is_reported_down(client):
    health.record_heartbeat(now=time.time() - settings.CELERY_HEARTBEAT_MAX_AGE - 5)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["celery"].startswith("error: last heartbeat")


def test_redis_on_a_closed_port_answers_503(client, settings):
    health.record_heartbeat()
    closed = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = closed
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": closed}}
    started = time.monotonic()
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["database"] == "ok"
    assert body["redis"].startswith("error: ConnectionError")
    assert body["celery"].startswith("error: heartbeat unreadable")
    assert time.monotonic() - started < 10  # fails fast, does not hang the probe


def test_post_is_refused(client):
    assert client.post("/healthz").status_code == 405
