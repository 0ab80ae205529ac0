"""A dispatcher killed with SIGKILL in the middle of a run (chunks committed, one open with
its rows and the batch locked): after a restart, the outcome is the one a run without the
kill gives. Real processes against the test database."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from production.models import FileEvent, FileStatus, PassportFile, ProductionBatch
from production.tests.factories import CentreFactory, PassportFileFactory
from tests.support import database_url

NOON = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)

# The dispatcher, in a process of its own, made to stop for good in its third chunk: the
# batch row and that chunk's files locked, its transaction open, when it is killed.
DISPATCHER = """
import sys, time
from datetime import datetime
import django
django.setup()
from core import chunks
from production import backlog
chunks.CHUNK = 10
real = backlog._centre_day_batch
calls = []
def batch_then_hang(centre, *, now):
    batch = real(centre, now=now)
    calls.append(1)
    if len(calls) == 3:
        open(sys.argv[1], "w").write("inside")
        time.sleep(600)
    return batch
backlog._centre_day_batch = batch_then_hang
backlog.backlog_run(now=datetime.fromisoformat(sys.argv[2]))
"""


def _wait_for(path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the dispatcher never reached its third chunk"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_dispatcher_killed_mid_run_leaves_what_a_whole_run_leaves(tmp_path):
    centre = CentreFactory(daily_capacity=45)
    files = PassportFileFactory.create_batch(
        80, centre=centre, office=centre.office, status=FileStatus.QUEUED
    )
    # What a whole run takes: the first 45 in the dispatcher's priority order.
    expected = [f.pk for f in sorted(files, key=lambda f: (f.due_date, f.created_at, f.pk))][:45]
    marker = tmp_path / "inside"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "epassport.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "SECRET_KEY": "test-only",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", DISPATCHER, str(marker), NOON.isoformat()],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(marker, process)
        # Two chunks of 10 are committed; the third holds the batch's lock.
        assert PassportFile.objects.filter(status="in_production").count() == 20
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    from production import backlog

    # Restarted (PostgreSQL has rolled the open chunk back and released its locks).
    run = backlog.backlog_run(now=NOON)

    assert run.dispatched == {centre.office.code: 25}
    taken = list(
        PassportFile.objects.filter(status="in_production")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert taken == sorted(expected)
    assert PassportFile.objects.filter(status="queued").count() == 35
    batch = ProductionBatch.objects.get()
    assert (batch.size, batch.capacity) == (45, 45)
    assert FileEvent.objects.filter(to_status="in_production").count() == 45
    assert set(PassportFile.objects.filter(batch=batch).values_list("pk", flat=True)) == set(
        expected
    )
    connection.close()
