"""The outbox: every notification sent exactly once, whoever sends it (the sweep, several
workers at once), and nothing lost while the broker is unreachable."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from appointments import services
from appointments.models import Appointment
from appointments.tests.factories import (
    REOPENING_MORNING,
    SlotFactory,
    applicant,
    book_at_reopening,
    displace,
    reopening_slot,
)
from core import sms, tasks
from core.models import OutboxMessage
from core.outbox import delivery
from epassport.celery import app as celery_app
from tests.support import celery_queue, database_url, run_together

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sms_file(settings, tmp_path) -> Path:
    settings.SMS_BACKEND = "appointments.sms.FileBackend"
    settings.SMS_FILE_PATH = tmp_path / "sms.log"
    return settings.SMS_FILE_PATH


def sms_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pytest.fixture
def worker_queue():
    with celery_queue() as name:
        yield name


def message_of(appointment: Appointment, kind: str, channel: str) -> OutboxMessage:
    return OutboxMessage.objects.get(appointment_id=appointment.pk, kind=kind, channel=channel)


def wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


# One message -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_confirmation_is_sent_with_its_documents_and_its_token_wiped(sms_file):
    appointment, token = book_at_reopening()
    email = message_of(appointment, "booking_confirmed", "email")
    assert email.payload == {"manage_token": token}

    assert delivery.outbox_deliver(message_id=email.pk) is True

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [appointment.email]
    assert appointment.reference in sent.subject
    assert token in sent.body
    assert [(name, mimetype) for name, _content, mimetype in sent.attachments] == [
        (f"{appointment.reference}.ics", "text/calendar"),
        (f"convocation-{appointment.reference}.pdf", "application/pdf"),
    ]
    email.refresh_from_db()
    assert email.status == OutboxMessage.Status.SENT
    assert email.sent_at is not None
    assert email.payload == {}
    assert email.attempts == 0
    # The SMS is a message of its own, still pending.
    assert message_of(appointment, "booking_confirmed", "sms").status == "pending"
    assert sms_lines(sms_file) == []


@pytest.mark.django_db
def test_delivering_the_same_message_twice_sends_it_once(sms_file):
    appointment, _token = book_at_reopening()
    email = message_of(appointment, "booking_confirmed", "email")
    text = message_of(appointment, "booking_confirmed", "sms")

    assert delivery.outbox_deliver(message_id=email.pk) is True
    assert delivery.outbox_deliver(message_id=email.pk) is False
    assert delivery.outbox_deliver(message_id=text.pk) is True
    assert delivery.outbox_deliver(message_id=text.pk) is False

    assert len(mail.outbox) == 1
    assert len(sms_lines(sms_file)) == 1
    assert delivery.outbox_sweep() == 0


@pytest.mark.django_db
def test_a_message_not_due_yet_waits(sms_file):
    appointment, _token = book_at_reopening()
    later = timezone.now() + timedelta(minutes=5)
    OutboxMessage.objects.filter(appointment_id=appointment.pk).update(next_attempt_at=later)
    email = message_of(appointment, "booking_confirmed", "email")

    assert delivery.outbox_deliver(message_id=email.pk) is False
    assert delivery.outbox_sweep() == 0
    assert mail.outbox == []
    email.refresh_from_db()
    assert email.status == OutboxMessage.Status.PENDING
    assert email.attempts == 0


@pytest.mark.django_db
def test_an_unknown_message_is_nothing_to_do():
    assert delivery.outbox_deliver(message_id=987654321) is False


# Each kind of message --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_moved_appointment_is_told_its_new_time_with_new_documents(sms_file):
    appointment, token = book_at_reopening()
    later = SlotFactory(
        office=appointment.office,
        starts_at=REOPENING_MORNING + timedelta(hours=1),
        ends_at=REOPENING_MORNING + timedelta(hours=1, minutes=15),
    )
    services.booking_reschedule(
        appointment=appointment, slot=later, now=REOPENING_MORNING - timedelta(days=1)
    )

    assert delivery.outbox_sweep() == 4

    moved = next(m for m in mail.outbox if "déplacé" in m.subject)
    assert appointment.reference in moved.subject
    assert "a été déplacé" in moved.body
    assert "lundi 24 novembre 2025 à 09:30 (Africa/Bamako, UTC)" in moved.body
    assert token not in moved.body  # only the confirmation carries the manage link
    assert "lien personnel reçu dans l’e-mail de confirmation" in moved.body
    assert [mimetype for _name, _content, mimetype in moved.attachments] == [
        "text/calendar",
        "application/pdf",
    ]
    assert b"DTSTART:20251124T093000Z" in moved.attachments[0][1].encode()
    assert any("déplacé au lundi 24 novembre 2025 à 09:30" in line for line in sms_lines(sms_file))


@pytest.mark.django_db
def test_a_cancellation_is_confirmed_without_documents(sms_file, settings):
    appointment, _token = book_at_reopening()
    services.booking_cancel(appointment=appointment, now=REOPENING_MORNING - timedelta(days=1))

    assert delivery.outbox_sweep() == 4

    cancelled = next(m for m in mail.outbox if "annulé" in m.subject)
    assert "a été annulé et la place a été libérée" in cancelled.body
    assert "lundi 24 novembre 2025 à 08:30 (Africa/Bamako, UTC)" in cancelled.body
    assert f"{settings.PORTAL_URL}/" in cancelled.body
    assert cancelled.attachments == []
    assert any("annulé" in line and appointment.reference in line for line in sms_lines(sms_file))


@pytest.mark.django_db
def test_a_displaced_applicant_is_asked_to_choose_a_new_time(sms_file, settings):
    appointment, _token = book_at_reopening()
    displace(appointment)
    email = message_of(appointment, "booking_displaced", "email")

    assert delivery.outbox_deliver(message_id=email.pk) is True

    displaced = mail.outbox[0]
    assert displaced.subject == (
        f"Passeport Premium : rendez-vous {appointment.reference} à reprogrammer"
    )
    assert "ne peut pas être maintenu : le bureau sera fermé" in displaced.body
    assert "Veuillez choisir un nouveau créneau" in displaced.body
    assert f"{settings.PORTAL_URL}/" in displaced.body
    assert displaced.attachments == []
    html = displaced.alternatives[0][0]
    assert "ne peut pas être maintenu" in html
    assert f'href="{settings.PORTAL_URL}/"' in html


# The sweep -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_sends_the_oldest_due_messages_first_within_its_limit(sms_file):
    slot = reopening_slot(capacity=3)
    appointments = [book_at_reopening(slot=slot)[0] for _ in range(3)]
    emails = [message_of(a, "booking_confirmed", "email") for a in appointments]
    OutboxMessage.objects.filter(channel="sms").update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    # Due order is the reverse of creation order.
    now = timezone.now()
    for age, message in enumerate(emails):
        OutboxMessage.objects.filter(pk=message.pk).update(
            next_attempt_at=now - timedelta(minutes=age)
        )

    assert delivery.outbox_sweep(limit=2) == 2

    sent = set(OutboxMessage.objects.filter(status="sent").values_list("pk", flat=True))
    assert sent == {emails[2].pk, emails[1].pk}
    assert delivery.outbox_sweep(limit=2) == 1
    assert delivery.outbox_sweep() == 0
    assert len(mail.outbox) == 3
    assert OutboxMessage.objects.filter(channel="sms", status="pending").count() == 3


@pytest.mark.django_db
@pytest.mark.usefixtures("sms_gateway_down")
def test_one_sweep_tries_a_failing_message_once_and_sends_the_others():
    slot = reopening_slot()
    book_at_reopening(slot=slot)
    book_at_reopening(slot=slot)

    assert delivery.outbox_sweep() == 2  # the two emails

    assert len(mail.outbox) == 2
    failing = OutboxMessage.objects.filter(channel="sms")
    assert [(m.status, m.attempts) for m in failing] == [("pending", 1), ("pending", 1)]
    assert delivery.outbox_sweep() == 0  # not due again before their backoff


# Several workers at once -----------------------------------------------------------------


class RendezvousBackend(sms.FileBackend):
    """Each sweeping thread, on its first SMS, waits (with that message claimed) until the
    other thread is sending one too: the two sweeps are then provably sending at the same
    instant. Were a claim waited for, the barrier would break and the SMS would fail; were a
    claimed message still due for the other sweep, it would be sent twice."""

    barrier = threading.Barrier(2)
    met = threading.local()

    def send(self, to: str, text: str) -> None:
        if not getattr(RendezvousBackend.met, "done", False):
            RendezvousBackend.met.done = True
            RendezvousBackend.barrier.wait(timeout=15)
        super().send(to, text)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_two_sweeps_at_once_send_each_message_exactly_once(settings, sms_file):
    settings.SMS_BACKEND = f"{__name__}.RendezvousBackend"
    RendezvousBackend.barrier = threading.Barrier(2)
    RendezvousBackend.met = threading.local()
    slot = reopening_slot(capacity=10)
    references = {book_at_reopening(slot=slot)[0].reference for _ in range(10)}

    results = run_together([delivery.outbox_sweep, delivery.outbox_sweep])

    assert all(isinstance(result, int) and result > 0 for result in results), results
    assert sum(results) == 20
    assert sorted(m.subject.split()[-2] for m in mail.outbox) == sorted(references)
    texts = sms_lines(sms_file)
    assert len(texts) == 10
    assert {ref for ref in references for line in texts if ref in line} == references
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 0)}


class SlowBackend(sms.FileBackend):
    def send(self, to: str, text: str) -> None:
        time.sleep(0.3)  # long enough for the other thread to come for the same message
        super().send(to, text)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_the_same_message_delivered_by_two_workers_at_once_is_sent_once(settings, sms_file):
    settings.SMS_BACKEND = f"{__name__}.SlowBackend"
    appointment, _token = book_at_reopening()
    email = message_of(appointment, "booking_confirmed", "email")
    text = message_of(appointment, "booking_confirmed", "sms")

    for message in (email, text):
        results = run_together([lambda pk=message.pk: delivery.outbox_deliver(message_id=pk)] * 2)
        assert sorted(results) == [False, True]

    assert len(mail.outbox) == 1
    assert len(sms_lines(sms_file)) == 1


# The broker unreachable ------------------------------------------------------------------

BOOK_WITH_BROKER_DOWN = """
import sys
import time

import django

django.setup()

from appointments import services
from appointments.models import Slot
from appointments.tests.factories import applicant

slot = Slot.objects.select_related("office").get(pk=int(sys.argv[1]))
started = time.monotonic()
# An identity of its own: this process's factory counter starts where the test's does.
appointment, token = services.booking_create(
    slot=slot, applicant=applicant(national_id="BROKERDOWN1")
)
print(appointment.reference, f"{time.monotonic() - started:.1f}")
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_a_booking_with_the_broker_down_is_notified_once_by_the_worker_later(
    sms_file, worker_queue
):
    slot = SlotFactory(capacity=2)

    # A web process whose Redis is unreachable (nothing listens on port 1) books a slot.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "epassport.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PYTHONPATH": str(ROOT),
        "BOOKING_VERIFY_CONTACT": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", BOOK_WITH_BROKER_DOWN, str(slot.pk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    reference, seconds = result.stdout.split()
    assert float(seconds) < 2, "booking_create waited for the broker"
    messages = OutboxMessage.objects.filter(
        appointment_id=Appointment.objects.get(reference=reference).pk
    )
    ids = sorted(messages.values_list("pk", flat=True))
    assert len(ids) == 2
    assert set(messages.values_list("status", "attempts")) == {("pending", 0)}
    assert mail.outbox == []

    # Redis is back: beat's sweep runs on a real worker.
    queue = worker_queue
    with start_worker(celery_app, queues=[queue], perform_ping_check=False, shutdown_timeout=10):
        tasks.outbox_sweep.apply_async(queue=queue)
        wait_until(lambda: not messages.filter(status="pending").exists())

        # The sweep runs again (beat sends it every few seconds), with a marker booking's
        # messages due: the worker sends the marker's, and not the first booking's again.
        tasks.outbox_sweep.apply_async(queue=queue)
        marker, _token = services.booking_create(slot=slot, applicant=applicant())
        tasks.outbox_sweep.apply_async(queue=queue)
        wait_until(
            lambda: (
                not OutboxMessage.objects.filter(
                    appointment_id=marker.pk, status="pending"
                ).exists()
            )
        )

    assert [m.subject for m in mail.outbox if reference in m.subject] == [
        f"Passeport Premium : rendez-vous {reference} confirmé"
    ]
    assert len(mail.outbox) == 2  # the booking and the marker
    assert len([line for line in sms_lines(sms_file) if reference in line]) == 1
    assert list(messages.values_list("status", "payload")) == [("sent", {}), ("sent", {})]
    assert delivery.outbox_sweep() == 0
    assert delivery.outbox_deliver(message_id=ids[0]) is False
