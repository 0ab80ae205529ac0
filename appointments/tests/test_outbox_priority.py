"""Codes first: a hold's code is sent before any other message, however many wait (the
outbox's priority, computed by PostgreSQL from the kind), the claim stays one index read
whatever the backlog, and a code is pushed to a worker when its booking commits (the sweep
stays the safety net: with Redis down the booking succeeds and the sweep sends it)."""

import logging
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django.utils import timezone

from appointments import notifications, services
from appointments.tests.api_bookings import book as api_book
from appointments.tests.factories import SlotFactory, applicant, bamako_centre, book, slot_at
from appointments.tests.verification import sent_code
from core.models import OutboxMessage
from core.outbox import delivery, kinds
from epassport.celery import app as celery_app
from tests.support import celery_queue

FILES = 10_000


def queue_file_notifications(appointment_id: int, count: int = FILES) -> None:
    """`count` file notifications (email and SMS by turns), all due for an hour already,
    written in one statement as the backlog's release writes them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO appointments_outboxmessage
                (channel, kind, appointment_id, recipient, language, payload, status,
                 attempts, next_attempt_at, last_error, created_at, idempotency_key)
            SELECT CASE WHEN g %% 2 = 0 THEN 'email' ELSE 'sms' END, 'file_ready', %s,
                   CASE WHEN g %% 2 = 0 THEN 'aminata.traore@example.org'
                        ELSE '+22376123456' END,
                   'fr', jsonb_build_object('file_reference', 'BKO-' || g), 'pending', 0,
                   now() - interval '1 hour' + g * interval '1 millisecond', '', now(),
                   'file:' || g || ':ready:' || g
            FROM generate_series(1, %s) g
            """,
            [appointment_id, count],
        )


def walk(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from walk(child)


# The order --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_queued_behind_10000_file_notifications_is_the_first_message_sent(
    settings, recorded
):
    office = bamako_centre()
    booked, _token = book(slot=slot_at(office, 9))
    OutboxMessage.objects.update(status=OutboxMessage.Status.SENT)  # its confirmation
    queue_file_notifications(booked.pk)
    settings.BOOKING_VERIFY_CONTACT = True
    hold, _token = services.booking_create(
        slot=slot_at(office, 10), applicant=applicant(email="awa@example.org")
    )
    code = sent_code(hold)
    assert OutboxMessage.objects.filter(status="pending").count() == FILES + 2
    # Every file notification is older, and due earlier, than the code.
    codes = OutboxMessage.objects.filter(kind="booking_code")
    first_code_due = min(codes.values_list("next_attempt_at", flat=True))
    assert not OutboxMessage.objects.filter(
        kind="file_ready", next_attempt_at__gte=first_code_due
    ).exists()

    assert delivery.outbox_sweep(limit=1) == 1

    [email] = mail.outbox
    assert email.to == ["awa@example.org"]
    assert code in email.subject
    assert recorded == []
    assert delivery.outbox_sweep(limit=1) == 1
    [(to, text)] = recorded
    assert to == "+22376123456"
    assert f"code {code}" in text
    # Then the file notifications, oldest first.
    assert delivery.outbox_sweep(limit=1) == 1
    assert "(dossier BKO-1)" in recorded[-1][1]
    assert set(codes.values_list("status", flat=True)) == {"sent"}
    assert OutboxMessage.objects.filter(kind="file_ready", status="pending").count() == FILES - 1


@pytest.mark.django_db
def test_the_priority_comes_from_the_kind_whoever_writes_the_message():
    appointment, _token = book()
    queue_file_notifications(appointment.pk, count=2)  # hand-written SQL, as the backlog's
    notifications.enqueue(  # the prepared statement of every booking
        appointment=appointment, kind="booking_code", key="appointment:x:code", payload={}
    )
    OutboxMessage.objects.create(  # the ORM
        channel="email",
        kind="booking_code",
        appointment_id=appointment.pk,
        recipient="a@b.org",
        idempotency_key="orm",
    )

    priorities = set(OutboxMessage.objects.values_list("kind", "priority"))

    assert priorities == {("booking_confirmed", 1), ("file_ready", 1), ("booking_code", 0)}
    assert [name for name in kinds.names() if kinds.get(name).first] == ["booking_code"]


@pytest.mark.django_db
def test_the_claim_reads_the_first_entry_of_the_index_with_10000_messages_pending():
    appointment, _token = book()
    queue_file_notifications(appointment.pk)
    notifications.enqueue(
        appointment=appointment, kind="booking_code", key="appointment:y:code", payload={}
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE appointments_outboxmessage")

    # The claim's own statement (delivery._claim takes its first row), run and timed.
    sql, params = delivery.claimable(timezone.now())[:1].query.sql_with_params()
    assert "FOR UPDATE" in sql
    assert "SKIP LOCKED" in sql
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        [[explained]] = cursor.fetchall()
    nodes = list(walk(explained[0]["Plan"]))

    scans = [node for node in nodes if node.get("Relation Name") == "appointments_outboxmessage"]
    assert [(node["Node Type"], node.get("Index Name")) for node in scans] == [
        ("Index Scan", "outbox_pending_due")
    ]
    assert scans[0]["Actual Rows"] == 1  # the first entry is the message claimed
    assert not [node for node in nodes if "Sort" in node["Node Type"]]
    assert explained[0]["Execution Time"] < 50  # milliseconds, on a busy test machine


# The push -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
@pytest.mark.usefixtures("protection_off", "push_state")
def test_a_code_is_pushed_to_a_worker_when_its_booking_commits(api, settings, recorded):
    slot = SlotFactory(office=bamako_centre(), capacity=3)
    with celery_queue() as queue:
        settings.CELERY_NOTIFICATIONS_QUEUE = queue
        # A confirmation is not pushed: it waits for the sweep like every other message.
        assert api_book(api, slot).status_code == 201
        settings.BOOKING_VERIFY_CONTACT = True
        body = api_book(api, slot, email="awa@example.org", phone="+223 70 00 00 01").json()
        with celery_app.connection_for_write() as conn:
            waiting = conn.default_channel.client.llen(queue)
        assert waiting == 1  # one task for the code's email and SMS

        # No sweep runs: only the pushed task can send the code.
        with start_worker(
            celery_app, queues=[queue], perform_ping_check=False, shutdown_timeout=10
        ):
            deadline = time.monotonic() + 30
            codes = OutboxMessage.objects.filter(kind="booking_code")
            while codes.filter(status="pending").exists():
                assert time.monotonic() < deadline, "the code was not sent"
                time.sleep(0.1)

    assert [m.to for m in mail.outbox] == [["awa@example.org"]]
    assert body["reference"] in mail.outbox[0].subject
    assert [to for to, _text in recorded] == ["+22370000001"]
    assert OutboxMessage.objects.filter(kind="booking_confirmed", status="pending").count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("protection_off", "verify_on", "push_state")
def test_with_redis_down_the_booking_succeeds_at_once_and_the_sweep_sends_the_code(
    api, settings, recorded, caplog
):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    slot = SlotFactory(office=bamako_centre(), capacity=3)

    with caplog.at_level(logging.WARNING, logger="appointments.notifications"):
        started = time.monotonic()
        first = api_book(api, slot, email="awa@example.org")
        second = api_book(api, slot, email="binta@example.org", phone="+223 70 00 00 02")
        seconds = time.monotonic() - started

    assert (first.status_code, second.status_code) == (201, 201)
    assert seconds < 2, "the booking waited for the broker"
    # Logged once: the second booking did not try the broker again so soon.
    [warning] = [r for r in caplog.records if "not pushed to a worker" in r.getMessage()]
    assert "the sweep sends them" in warning.getMessage()
    assert OutboxMessage.objects.filter(kind="booking_code", status="pending").count() == 4

    assert delivery.outbox_sweep() == 4
    assert sorted(m.to[0] for m in mail.outbox) == ["awa@example.org", "binta@example.org"]
    assert len(recorded) == 2
