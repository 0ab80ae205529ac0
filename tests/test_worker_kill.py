"""A Celery worker killed mid-task loses no work, and does none twice.

Real workers (`celery -A epassport worker`, prefork, as in production) on the test's Redis,
against the test database, killed with SIGKILL in the middle of a task:

- the pool process running a backlog dispatch is killed (as the kernel's OOM killer does):
  the worker hands the task back to the queue (`reject_on_worker_lost`) and runs it again in
  a new pool process, which finishes the dispatch;
- the whole worker is killed in the middle of an outbox sweep, while a mail server is slow
  to answer: the task was not acked (`acks_late`), so Redis gives it to the next worker after
  the visibility timeout, and the message whose sender died is sent once its claim lapses.
"""

import asyncio
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from appointments import services as appointment_services
from appointments.tests.factories import SlotFactory, applicant
from appointments.tests.smtp_server import Inbox, smtp_server
from core.models import OutboxMessage
from core.tasks import outbox_sweep
from production.models import FileEvent, FileStatus, PassportFile, ProductionBatch
from production.tasks import backlog_run
from production.tests.factories import CentreFactory, PassportFileFactory
from tests.servers import celery, portal_env, spawn, stop, wait_until
from tests.support import celery_queue, database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

WORKER_OPTIONS = ["--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=INFO"]

# A worker whose backlog dispatch stops for good in its third chunk, once (a marker file
# says it happened, with the pid of the pool process): the batch and that chunk's files
# locked, its transaction open, when the process is killed.
HANGING_WORKER = """
import os, sys, time
import django
django.setup()
from core import chunks
from production import backlog
chunks.CHUNK = 10
real, calls = backlog._centre_day_batch, []
def batch_then_hang_once(centre, *, now):
    batch = real(centre, now=now)
    calls.append(1)
    if len(calls) == 3 and not os.path.exists(sys.argv[1]):
        with open(sys.argv[1] + ".tmp", "w") as marker:
            marker.write(str(os.getpid()))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        time.sleep(600)
    return batch
backlog._centre_day_batch = batch_then_hang_once
from epassport.celery import app
app.worker_main(["worker", "-Q", sys.argv[2], "--pool=prefork", *sys.argv[3:]])
"""


def worker_env(**overrides: str) -> dict[str, str]:
    return portal_env(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        CACHE_KEY_PREFIX=settings.CACHES["default"]["KEY_PREFIX"],
        **overrides,
    )


def test_a_pool_process_killed_mid_dispatch_is_replaced_and_the_dispatch_finished(tmp_path):
    centre = CentreFactory(daily_capacity=45)
    files = PassportFileFactory.create_batch(
        80, centre=centre, office=centre.office, status=FileStatus.QUEUED
    )
    expected = [f.pk for f in sorted(files, key=lambda f: (f.due_date, f.created_at, f.pk))][:45]
    marker = tmp_path / "inside"
    with celery_queue() as queue:
        worker = spawn(
            [sys.executable, "-c", HANGING_WORKER, str(marker), queue, *WORKER_OPTIONS],
            worker_env(),
            tmp_path / "worker.log",
        )
        try:
            backlog_run.apply_async(queue=queue)
            wait_until(marker.exists, what="the third chunk of the dispatch")
            # Two chunks of 10 are committed; the third holds the batch's lock.
            assert PassportFile.objects.filter(status="in_production").count() == 20
            os.kill(int(marker.read_text()), signal.SIGKILL)  # the pool process only

            wait_until(
                lambda: PassportFile.objects.filter(status="in_production").count() == 45,
                what="the dispatch to be finished by a new pool process",
            )
            time.sleep(1)  # nothing more happens
            assert worker.poll() is None  # the worker itself ran on
        finally:
            stop(worker)

    taken = PassportFile.objects.filter(status="in_production").values_list("pk", flat=True)
    assert sorted(taken) == sorted(expected)
    assert PassportFile.objects.filter(status="queued").count() == 35
    batch = ProductionBatch.objects.get()
    assert (batch.size, batch.capacity) == (45, 45)
    assert FileEvent.objects.filter(to_status="in_production").count() == 45
    assert "WorkerLostError" in (tmp_path / "worker.log").read_text()
    connection.close()


class SlowInbox(Inbox):
    """A mail server that, for the first message it is given, takes its time to accept the
    recipient (until `release`): the message is then on its way, not delivered."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.stalled.is_set():
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"


def age_unacked(queue: str, seconds: int) -> int:
    """Move back by `seconds` the time at which Redis handed this queue's unacked messages
    to a worker: as if that long had passed (kombu's Redis transport gives such a message to
    another worker once it is older than the visibility timeout). Returns how many."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        aged = 0
        for tag, raw in client.hgetall("unacked").items():
            _message, exchange, routing_key = json.loads(raw)
            if queue in (exchange, routing_key):
                score = client.zscore("unacked_index", tag)
                client.zadd("unacked_index", {tag: score - seconds})
                aged += 1
        return aged
    finally:
        client.close()


def sms_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_a_worker_killed_mid_sweep_loses_no_message_and_sends_none_twice(tmp_path):
    slot = SlotFactory(capacity=2)
    references = [
        appointment_services.booking_create(slot=slot, applicant=applicant())[0].reference
        for _ in range(2)
    ]
    messages = OutboxMessage.objects.all()
    assert messages.count() == 4  # an email and an SMS each
    handler = SlowInbox()
    sms_file = tmp_path / "sms.log"
    with celery_queue() as queue, smtp_server(settings, handler) as inbox:
        env = worker_env(
            EMAIL_URL=f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
            SMS_BACKEND="appointments.sms.FileBackend",
            SMS_FILE_PATH=str(sms_file),
            OUTBOX_CLAIM_SECONDS="15",
        )
        log = tmp_path / "worker.log"
        first = celery(env, log, "worker", "-Q", queue, "--pool=prefork", *WORKER_OPTIONS)
        try:
            outbox_sweep.apply_async(queue=queue)
            assert handler.stalled.wait(60), "the sweep never reached the mail server"
        finally:
            stop(first, sig=signal.SIGKILL)  # the worker and its pool process, at once
            handler.release.set()
        claimed = messages.get(claimed_until__isnull=False)
        assert claimed.channel == "email"
        assert inbox.envelopes == []

        # Nobody sends the claimed message until its claim lapses (the sweep's time limit).
        wait_until(
            lambda: messages.filter(pk=claimed.pk, next_attempt_at__lt=timezone.now()).exists(),
            what="the claim to lapse",
        )
        # The visibility timeout passes: a new worker is given the sweep that was never acked.
        assert age_unacked(queue, settings.CELERY_VISIBILITY_TIMEOUT + 1) == 1
        second = celery(env, log, "worker", "-Q", queue, "--pool=prefork", *WORKER_OPTIONS)
        try:
            wait_until(
                lambda: not messages.exclude(status="sent").exists(),
                what="every message to be sent by the new worker",
            )
        finally:
            stop(second)

    subjects = inbox.subjects()
    for reference in references:
        assert subjects.count(f"Passeport Premium : rendez-vous {reference} confirmé") == 1
        assert len([line for line in sms_lines(sms_file) if reference in line]) == 1
    assert len(subjects) == 2
    claimed.refresh_from_db()
    assert (claimed.status, claimed.attempts) == ("sent", 1)  # the lost attempt counted
    assert "sender lost" in claimed.last_error
    assert set(messages.exclude(pk=claimed.pk).values_list("attempts", flat=True)) == {0}
