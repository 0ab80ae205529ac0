"""The reminder the day before: every booked appointment of the next local day of its
office, once, however many times (and however many at once) the hourly task runs."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments import services, tasks
from appointments.models import Appointment
from appointments.schedules import SCHEDULES
from appointments.tests.factories import (
    BAMAKO,
    OfficeFactory,
    SlotFactory,
    applicant,
    bamako_centre,
    displace,
    paris_consulate,
)
from core.models import OutboxMessage
from core.outbox import delivery
from epassport.celery import app as celery_app
from tests.support import run_together

pytestmark = pytest.mark.django_db

# Monday 24 November 2025, 02:00 UTC: already the 24th in Bamako (UTC), still Sunday the
# 23rd, 21:00, in Washington (UTC-5). "Tomorrow" is the 25th in one, the 24th in the other.
NOW = datetime(2025, 11, 24, 2, 0, tzinfo=UTC)
WASHINGTON = ZoneInfo("America/New_York")


def booked_at(office, local: datetime, **who) -> Appointment:
    slot = SlotFactory(office=office, starts_at=local, ends_at=local + timedelta(minutes=15))
    return services.booking_create(slot=slot, applicant=applicant(**who), now=NOW)[0]


def reminders() -> list[tuple[int, str, str]]:
    return sorted(
        OutboxMessage.objects.filter(kind="booking_reminder").values_list(
            "appointment_id", "channel", "idempotency_key"
        )
    )


def pairs(*appointments: Appointment) -> list[tuple[int, str, str]]:
    return sorted(
        (a.pk, channel, f"appointment:{a.pk}:reminder:{a.slot_id}")
        for a in appointments
        for channel in ("email", "sms")
    )


@pytest.fixture
def offices():
    washington = OfficeFactory(
        code="washington-ambassade", country="US", city="Washington", timezone=WASHINGTON
    )
    return bamako_centre(), washington


def test_the_appointments_of_the_next_local_day_of_each_office_are_reminded(offices, freeze):
    freeze(NOW)
    bamako, washington = offices
    tomorrow = [
        booked_at(bamako, datetime(2025, 11, 25, 8, 30, tzinfo=BAMAKO)),
        booked_at(washington, datetime(2025, 11, 24, 9, 0, tzinfo=WASHINGTON)),
        booked_at(washington, datetime(2025, 11, 24, 20, 0, tzinfo=WASHINGTON)),  # 01:00 UTC
    ]
    booked_at(bamako, datetime(2025, 11, 24, 9, 0, tzinfo=BAMAKO))  # today
    booked_at(bamako, datetime(2025, 11, 26, 8, 0, tzinfo=BAMAKO))  # after tomorrow
    booked_at(washington, datetime(2025, 11, 25, 9, 0, tzinfo=WASHINGTON))
    cancelled = booked_at(bamako, datetime(2025, 11, 25, 9, 0, tzinfo=BAMAKO))
    services.booking_cancel(appointment=cancelled, now=NOW)
    # Paris (UTC+1) closes tomorrow: its appointment is displaced, not reminded.
    displaced = booked_at(paris_consulate(), datetime(2025, 11, 25, 10, 0, tzinfo=BAMAKO))
    displace(displaced)
    displaced.refresh_from_db()
    assert displaced.status == Appointment.Status.DISPLACED

    assert tasks.booking_reminders() == 6
    assert reminders() == pairs(*tomorrow)
    # The hourly task runs again: nothing more.
    assert tasks.booking_reminders() == 0
    freeze(NOW + timedelta(hours=1))
    assert services.booking_reminders_enqueue() == 0
    assert reminders() == pairs(*tomorrow)


def test_a_move_to_another_slot_of_the_next_day_is_reminded_of_its_new_time(offices):
    bamako, _washington = offices
    appointment = booked_at(bamako, datetime(2025, 11, 25, 8, 30, tzinfo=BAMAKO))
    services.booking_reminders_enqueue(now=NOW)
    later = SlotFactory(office=bamako, starts_at=datetime(2025, 11, 25, 11, 0, tzinfo=BAMAKO))
    first_reminder = pairs(appointment)
    services.booking_reschedule(appointment=appointment, slot=later, now=NOW)
    appointment.refresh_from_db()

    assert services.booking_reminders_enqueue(now=NOW + timedelta(hours=1)) == 2
    assert reminders() == sorted(first_reminder + pairs(appointment))


def test_a_channel_turned_off_is_not_reminded(offices):
    bamako, _washington = offices
    appointment = booked_at(bamako, datetime(2025, 11, 25, 8, 30, tzinfo=BAMAKO))
    services.booking_notifications_set(appointment=appointment, sms=False)

    assert services.booking_reminders_enqueue(now=NOW) == 1
    assert [channel for _a, channel, _k in reminders()] == ["email"]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_remind_each_appointment_once(offices):
    bamako, washington = offices
    tomorrow = [
        booked_at(bamako, datetime(2025, 11, 25, 8, 0, tzinfo=BAMAKO) + timedelta(minutes=15 * n))
        for n in range(20)
    ] + [booked_at(washington, datetime(2025, 11, 24, 10, 0, tzinfo=WASHINGTON))]

    results = run_together([lambda: services.booking_reminders_enqueue(now=NOW)] * 3)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 42
    assert reminders() == pairs(*tomorrow)


def test_the_reminder_goes_out_once_by_email_and_sms(offices, inbox, recorded, freeze):
    freeze(NOW)
    bamako, _washington = offices
    appointment = booked_at(bamako, datetime(2025, 11, 25, 8, 30, tzinfo=BAMAKO))
    OutboxMessage.objects.filter(kind="booking_confirmed").delete()  # not this test's

    tasks.booking_reminders()
    assert delivery.outbox_sweep() == 2
    tasks.booking_reminders()
    assert delivery.outbox_sweep() == 0

    assert inbox.subjects() == [
        f"Passeport Premium : rappel, rendez-vous {appointment.reference} demain"
    ]
    text = inbox.messages()[0].get_body(("plain",)).get_content()
    assert "Rappel : votre rendez-vous pour le passeport Premium a lieu demain." in text
    assert "mardi 25 novembre 2025 à 08:30 (Africa/Bamako, UTC)" in text
    assert "À apporter :" in text
    assert [to for to, _text in recorded] == [appointment.phone]
    assert recorded[0][1].startswith(
        f"Passeport Premium : rappel, votre rendez-vous {appointment.reference} est demain, "
        "le mardi 25 novembre 2025 à 08:30"
    )


def test_the_reminder_runs_every_hour_by_default():
    schedule = next(s for s in SCHEDULES if s.task == "appointments.booking_reminders")
    assert schedule.crontab["hour"] == "*"
    assert schedule.task in celery_app.tasks
