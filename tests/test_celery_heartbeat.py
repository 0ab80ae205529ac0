"""The heartbeat that /healthz reads is really produced by beat and a worker.

These tests start real Celery: a worker on the real Redis broker, and beat with
django-celery-beat's database scheduler reading the test database.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from core import health, schedules
from core.tasks import heartbeat
from epassport.celery import app
from tests.support import celery_queue, database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_queue():
    with celery_queue() as name:
        yield name


@pytest.mark.django_db
def test_the_heartbeat_schedule_is_installed_by_migrate():
    task = PeriodicTask.objects.get(name="heartbeat")
    assert task.task == "epassport.heartbeat"
    assert task.enabled
    assert task.interval.every == settings.CELERY_HEARTBEAT_INTERVAL
    assert task.interval.period == IntervalSchedule.SECONDS


@pytest.mark.django_db
def test_an_administrators_change_to_the_schedule_survives_the_next_migrate():
    task = PeriodicTask.objects.get(name="heartbeat")
    task.interval, _ = IntervalSchedule.objects.get_or_create(every=42, period="seconds")
    task.enabled = False
    task.save()
    schedules.install_default_schedules()
    task.refresh_from_db()
    assert task.interval.every == 42
    assert not task.enabled
    assert PeriodicTask.objects.filter(name="heartbeat").count() == 1


# transaction=True: the worker's Django fix-up closes this thread's database connection when
# it starts, which must not happen inside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_heartbeat_sent_through_redis(client, worker_queue):
    queue = worker_queue
    assert client.get("/healthz").status_code == 503
    with start_worker(app, queues=[queue], perform_ping_check=False, shutdown_timeout=10):
        heartbeat.apply_async(queue=queue)
        deadline = time.monotonic() + 30
        while health.check_celery() != "ok" and time.monotonic() < deadline:
            time.sleep(0.1)
    assert client.get("/healthz").json() == {
        "database": "ok",
        "redis": "ok",
        "celery": "ok",
        "static": "ok",
    }


@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_together_keep_healthz_green(worker_queue):
    # Beat reads its schedule from the (committed) test database; one beat per second.
    task = PeriodicTask.objects.get(name="heartbeat")
    task.interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    task.save()
    queue = worker_queue
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "CELERY_QUEUE": queue,
    }
    celery = [sys.executable, "-m", "celery", "-A", "epassport"]
    processes = [
        subprocess.Popen(
            [
                *celery,
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        ),
        subprocess.Popen(
            [*celery, "beat", "--loglevel=WARNING", "--pidfile="],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        ),
    ]
    try:
        deadline = time.monotonic() + 60
        while health.check_celery() != "ok" and time.monotonic() < deadline:
            assert all(p.poll() is None for p in processes), "worker or beat exited"
            time.sleep(0.2)
        assert health.check_celery() == "ok"
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
