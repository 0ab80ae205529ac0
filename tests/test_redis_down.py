"""Redis stopped, then hung: booking and tracking still work, quickly, and the notifications
written meanwhile go out once Redis is back, through the worker and beat that ran all along.

Real processes: a private redis-server that the test stops, starts and freezes (never the
machine's own), the portal under gunicorn, a Celery worker on the three queues and beat with
its database schedule; a real SMTP server on localhost.
"""

import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from appointments.models import Appointment
from appointments.tests.challenges import solve
from appointments.tests.factories import SlotFactory, bamako_centre
from appointments.tests.smtp_server import smtp_server
from core.models import OutboxMessage
from tests.servers import celery, fetch, portal, portal_env, private_redis, stop, wait_until
from tests.support import database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(360)]

BIRTH_DATE = "1990-05-17"
_identities = iter(range(1, 100))


def book(url: str, slot_id: int) -> tuple[str, list]:
    """Book as an API client does: fetch a challenge, solve it, post the booking. Returns
    the reference and the answers of both requests."""
    challenge = fetch(f"{url}/api/v1/challenge/")
    assert challenge.status == 200, challenge.text
    body = {
        "slot": slot_id,
        "surname": "Traoré",
        "given_names": "Aminata",
        "birth_date": BIRTH_DATE,
        "national_id": f"REDISDOWN{next(_identities)}",
        "email": "aminata.traore@example.org",
        "phone": "+223 76 12 34 56",
        "language": "fr",
        "altcha": solve(challenge.json()),
    }
    booking = fetch(f"{url}/api/v1/bookings/", data=body)
    assert booking.status == 201, booking.text
    return booking.json()["reference"], [challenge, booking]


def track(url: str, reference: str) -> list:
    """Follow the booking by the API and on the tracking page."""
    query = f"reference={reference}&birth_date={BIRTH_DATE}"
    api = fetch(f"{url}/api/v1/track/?{query}")
    assert api.status == 200, api.text
    assert api.json()["reference"] == reference
    page = fetch(f"{url}/suivi/?{query}")
    assert page.status == 200
    assert reference in page.text
    return [api, page]


def messages_of(reference: str):
    appointments = Appointment.objects.filter(reference=reference).values("pk")
    return OutboxMessage.objects.filter(appointment_id__in=appointments)


def delivered(reference: str) -> bool:
    return not messages_of(reference).exclude(status="sent").exists()


def sms_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pytest.fixture
def sweep_every_second():
    """Beat sends the outbox sweep every second (instead of every 10)."""
    task = PeriodicTask.objects.get(name="outbox sweep")
    task.interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    task.save()


@pytest.mark.usefixtures("sweep_every_second")
def test_booking_and_tracking_without_redis_and_notifications_once_it_is_back(
    tmp_path, settings, static_root
):
    slot = SlotFactory(
        office=bamako_centre(), capacity=10, starts_at=timezone.now() + timedelta(days=3)
    )
    sms_file = tmp_path / "sms.log"
    with smtp_server(settings) as inbox, private_redis(tmp_path / "redis") as redis:
        env = portal_env(
            DATABASE_URL=database_url(),
            REDIS_URL=redis.url,
            EMAIL_URL=f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
            SMS_BACKEND="appointments.sms.FileBackend",
            SMS_FILE_PATH=str(sms_file),
            BOOKING_CHALLENGE="true",
            BOOKING_CHALLENGE_MAX_NUMBER="2000",
            RATE_LIMITS="true",
            STATIC_ROOT=str(static_root),
        )
        log = tmp_path / "processes.log"
        worker = celery(
            env,
            log,
            "worker",
            "-Q",
            "celery,notifications,backlog",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        )
        beat = celery(env, log, "beat", "--loglevel=WARNING", "--pidfile=")
        try:
            with portal(env, tmp_path / "gunicorn.log") as gunicorn:
                url = gunicorn.url
                # Redis up: a booking is notified by the worker, as always.
                first, _answers = book(url, slot.pk)
                wait_until(lambda: delivered(first), what="the first booking's messages")

                # Redis stopped: booking and tracking work; the messages wait in PostgreSQL.
                redis.stop()
                second, answers = book(url, slot.pk)
                answers += track(url, second)
                assert fetch(f"{url}/").status == 200
                assert max(answer.seconds for answer in answers) < 2, answers
                assert set(messages_of(second).values_list("status", flat=True)) == {"pending"}

                # Redis hung (frozen: connections accepted, nothing answered): the same, and
                # quickly: after one call has timed out, the cache is not tried for a while.
                redis.start()
                redis.freeze()
                answers = []
                hung = []
                for _round in range(3):
                    reference, booking_answers = book(url, slot.pk)
                    hung.append(reference)
                    answers += booking_answers + track(url, reference)
                seconds = [answer.seconds for answer in answers]
                assert statistics.median(seconds) < 0.5, seconds
                assert max(seconds) < 5, seconds
                assert worker.poll() is None
                assert beat.poll() is None

                # Redis back: the worker and beat, never restarted, send everything once.
                redis.thaw()
                for reference in (second, *hung):
                    wait_until(lambda r=reference: delivered(r), seconds=120, what=reference)
                assert worker.poll() is None
                assert beat.poll() is None
        finally:
            stop(beat)
            stop(worker)

    for reference in (first, second, *hung):
        subject = f"Passeport Premium : rendez-vous {reference} confirmé"
        assert inbox.subjects().count(subject) == 1, reference
        assert len([line for line in sms_lines(sms_file) if reference in line]) == 1
        assert set(messages_of(reference).values_list("status", "attempts")) == {("sent", 0)}
    assert len(inbox.envelopes) == 5
