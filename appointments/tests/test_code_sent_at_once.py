"""A hold's code reaches the applicant within two seconds of the booking, not at the outbox's
next sweep: the booking pushes it to a worker when it commits (notifications.push). Measured
with a real Celery worker, from the booking form's post to the message's sent_at, for a few
bookings one after another; no sweep runs."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from appointments.models import Appointment
from appointments.tests.booking_form import day_url, person
from appointments.tests.factories import paris_consulate, slot_at
from core.models import OutboxMessage
from epassport.celery import app as celery_app
from tests.support import celery_queue

BOOKINGS = 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
@pytest.mark.usefixtures("protection_off", "verify_on", "push_state")
def test_the_code_is_sent_within_two_seconds_of_each_booking(client, settings, recorded):
    slot = slot_at(paris_consulate(), 9, capacity=BOOKINGS)
    delays = []
    with celery_queue() as queue:
        settings.CELERY_NOTIFICATIONS_QUEUE = queue
        with start_worker(
            celery_app, queues=[queue], perform_ping_check=False, shutdown_timeout=10
        ):
            for number in range(BOOKINGS):
                booked_at = timezone.now()
                response = client.post(day_url(slot), {**person(number), "slot": slot.pk})
                assert response.status_code == 302
                hold = Appointment.objects.get(national_id=f"NINA{number:08d}")
                codes = OutboxMessage.objects.filter(appointment_id=hold.pk, kind="booking_code")
                deadline = time.monotonic() + 10  # bounded: a code never sent fails here
                while codes.filter(sent_at__isnull=True).exists():
                    assert time.monotonic() < deadline, "the code was not sent"
                    time.sleep(0.02)
                sent = max(codes.values_list("sent_at", flat=True))
                delays.append((sent - booked_at).total_seconds())
    assert len(recorded) == BOOKINGS  # one SMS each (and one email)
    assert max(delays) < 2, delays
