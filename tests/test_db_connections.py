"""Persistent database connections: kept between requests (CONN_MAX_AGE, 60 s by
default) and checked at the start of a request (CONN_HEALTH_CHECKS), so that a connection
the server dropped (a restart, a fail-over, an idle timeout) costs no request an error,
unless it served a request a moment ago (core/postgresql/base.py: a busy connection
pays no round trip for it); and a Celery worker never keeps one from one task to the
next."""

import time
from wsgiref.util import setup_testing_defaults

import psycopg2
import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.db import connection

from core.postgresql.base import SOUND_SECONDS
from epassport.celery import app
from epassport.wsgi import application
from tests.support import celery_queue

PID_KEY = "test:backend-pid"


def backend_pid() -> int | None:
    """The server process of this thread's kept connection, if there is one open."""
    if connection.connection is None or connection.connection.closed:
        return None
    return connection.connection.get_backend_pid()


def terminate(pid: int) -> None:
    """End a server process from another session, as a restarted server would."""
    killer = psycopg2.connect(**connection.get_connection_params())
    try:
        killer.autocommit = True
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        killer.close()


def serve(path: str) -> str:
    """One request through the WSGI application, as gunicorn calls it (with the request
    signals that open, check and keep the connection, unlike the test client)."""
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_HOST": "testserver"}
    setup_testing_defaults(environ)
    status = []
    response = application(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        b"".join(response)
    finally:
        response.close()  # request_finished: the connection is kept, or closed if too old
    return status[0]


@pytest.mark.django_db(transaction=True)
def test_a_request_after_the_server_dropped_the_kept_connection_is_served():
    assert connection.settings_dict["CONN_MAX_AGE"] == 60
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    try:
        assert serve("/statut/").startswith("200")
        kept = backend_pid()
        assert kept is not None  # kept after the request
        assert serve("/statut/").startswith("200")
        assert backend_pid() == kept  # and reused by the next one
        terminate(kept)
        time.sleep(SOUND_SECONDS + 0.1)  # idle: no longer proven by its last request
        # The health check at the start of the request finds it dead and opens another one.
        assert serve("/statut/").startswith("200")
        assert backend_pid() not in (None, kept)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_just_served_a_request_is_not_checked_again(monkeypatch):
    checks = []
    is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or is_usable())
    try:
        assert serve("/statut/").startswith("200")
        kept = backend_pid()
        for _request in range(5):
            assert serve("/statut/").startswith("200")
        assert checks == []  # no `SELECT 1` before each request of a busy worker
        assert backend_pid() == kept
        time.sleep(SOUND_SECONDS + 0.1)
        assert serve("/statut/").startswith("200")
        assert checks == [1]  # idle a while: checked again
        assert backend_pid() == kept
    finally:
        connection.close()


@app.task(name="tests.record_backend_pid", ignore_result=True)
def record_backend_pid() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        cache.set(PID_KEY, cursor.fetchone()[0])


def wait_for_pid() -> int:
    deadline = time.monotonic() + 30
    while (pid := cache.get(PID_KEY)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid is not None, "the task did not run"
    return pid


# transaction=True: the worker's Django fix-up closes this thread's connection as it starts.
@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_no_connection_from_one_task_to_the_next():
    with (
        celery_queue() as queue,
        start_worker(app, queues=[queue], perform_ping_check=False, shutdown_timeout=10),
    ):
        record_backend_pid.apply_async(queue=queue)
        first = wait_for_pid()
        terminate(first)  # whatever the worker still held of it is dead now
        cache.delete(PID_KEY)
        record_backend_pid.apply_async(queue=queue)
        second = wait_for_pid()
    assert second != first
