"""/healthz: database, Redis and Celery, each 'ok' or 'error' and nothing more (no exception
text: the probe is public); 200 only if all are ok, else 503."""

import os
import subprocess
import sys
import time

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from core import health

pytestmark = pytest.mark.django_db


def test_all_ok_answers_200(client):
    health.record_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "celery": "ok", "static": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_without_a_heartbeat_celery_is_reported_down(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "ok", "celery": "error", "static": "ok"}


def test_a_stale_heartbeat_is_reported_down(client):
    health.record_heartbeat(now=time.time() - settings.CELERY_HEARTBEAT_MAX_AGE - 5)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "ok", "celery": "error", "static": "ok"}


def test_redis_on_a_closed_port_answers_503_without_the_error_text(client, settings, caplog):
    health.record_heartbeat()
    closed = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = closed
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": closed}}
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 503
    # Exactly these bytes: no exception class, message, host or port in the answer.
    assert (
        response.content
        == b'{"database": "ok", "redis": "error", "celery": "error", "static": "ok"}'
    )
    assert time.monotonic() - started < 10  # fails fast, does not hang the probe
    assert "ConnectionError" in caplog.text  # the cause is in the log, for operators


def test_post_is_refused(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_dropped_database_connection_answers_error_without_its_text(client):
    health.record_heartbeat()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    # Another session ends ours, as a restarted or failed-over server would.
    killer = psycopg2.connect(**connection.get_connection_params())
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        killer.close()
    try:
        response = client.get("/healthz")
    finally:
        connection.close()  # the broken connection; the next use opens a new one
    assert response.status_code == 503
    assert response.json() == {"database": "error", "redis": "ok", "celery": "ok", "static": "ok"}


def test_without_collectstatic_the_check_says_so_and_the_web_server_refuses_to_start(
    client, settings, tmp_path
):
    """With DEBUG off the pages name their files through collectstatic's manifest: without
    it every page would answer 500. /healthz says so, and the WSGI application refuses to
    start with what to do."""
    health.record_heartbeat()
    settings.STATIC_ROOT = str(tmp_path / "static")  # nothing collected there
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["static"] == "error"
    assert "collectstatic" in health.static_manifest_problem()

    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "premium.example.ml",
        "ALLOW_CONSOLE_DELIVERY": "true",
        "STATIC_ROOT": str(tmp_path / "static"),
        "SERVER_SOFTWARE": "gunicorn/23.0.0",  # as gunicorn sets it before loading the app
    }
    started = subprocess.run(
        [sys.executable, "-c", "import epassport.wsgi"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert "collectstatic --noinput" in started.stderr
    # A test or a script importing the application is not refused.
    del environment["SERVER_SOFTWARE"]
    imported = subprocess.run(
        [sys.executable, "-c", "import epassport.wsgi"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
