"""Celery's settings for faults: every task of the portal is acked once it has run
and handed back when its worker dies, is time-limited below the broker's visibility timeout,
and goes to its queue; a worker, in development or without -Q, serves every queue."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from core import schedules
from epassport.celery import app
from tests.servers import ROOT

QUEUES = {"celery", "notifications", "backlog"}


@pytest.fixture(scope="module")
def tasks() -> dict:
    app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery)
    apps = ("appointments", "production", "consulates", "epassport")
    return {name: task for name, task in app.tasks.items() if name.split(".")[0] in apps}


def test_every_periodic_task_is_a_task_of_the_portal(tasks):
    assert {default.task for default in schedules.DEFAULT_SCHEDULES} <= set(tasks)


def test_every_task_is_acked_late_handed_back_when_its_worker_dies_and_time_limited(tasks):
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility == settings.CELERY_VISIBILITY_TIMEOUT
    for name, task in tasks.items():
        assert task.acks_late, name
        assert task.reject_on_worker_lost, name
        assert 0 < task.soft_time_limit < task.time_limit < visibility, name
    assert max(task.time_limit for task in tasks.values()) == settings.CELERY_LONGEST_TIME_LIMIT


def test_the_outbox_claim_lasts_as_long_as_the_sweep_may_run(tasks):
    assert tasks["appointments.outbox_sweep"].time_limit == settings.OUTBOX_CLAIM_SECONDS


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("appointments.outbox_sweep", "notifications"),
        ("production.backlog_run", "backlog"),
        ("production.backlog_snapshot", "backlog"),
        ("production.retention_erase", "backlog"),
        ("appointments.slots_generate", "backlog"),
        ("appointments.holds_expire", "celery"),
        ("appointments.booking_reminders", "celery"),
        ("epassport.heartbeat", "celery"),
    ],
)
def test_each_task_goes_to_its_queue(task, queue):
    # As beat sends it: by name, with no queue of its own in the schedule.
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_worker_started_without_q_serves_every_queue():
    assert {queue.name for queue in app.conf.task_queues} == QUEUES


def test_make_run_starts_a_worker_on_every_queue():
    procfile = (ROOT / "Procfile.dev").read_text()
    worker = next(line for line in procfile.splitlines() if line.startswith("worker:"))
    queues = re.search(r"-Q (\S+)", worker).group(1).replace("${CELERY_QUEUE:-celery}", "celery")
    assert set(queues.split(",")) == QUEUES


def settings_error(**env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "epassport.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    return result.stderr


def test_a_visibility_timeout_not_above_the_longest_time_limit_is_refused():
    longest = settings.CELERY_LONGEST_TIME_LIMIT
    error = settings_error(CELERY_VISIBILITY_TIMEOUT=str(longest))
    assert f"CELERY_VISIBILITY_TIMEOUT must be above the longest task's time limit ({longest}" in (
        error
    )


def test_an_outbox_claim_too_short_is_refused():
    assert "OUTBOX_CLAIM_SECONDS must be at least 5" in settings_error(OUTBOX_CLAIM_SECONDS="2")
