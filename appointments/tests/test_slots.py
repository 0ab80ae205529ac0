"""Slot generation from opening hours minus closures, across DST changes."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from appointments import services
from appointments.models import Appointment, OpeningHours, Slot
from appointments.tests.factories import OfficeFactory, applicant, weekday_mornings
from core.models import OutboxMessage

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def paris():
    return weekday_mornings(OfficeFactory(code="paris-consulat", timezone=PARIS))


def starts(office, day: date) -> list[datetime]:
    lower = datetime.combine(day, time.min, tzinfo=office.timezone)
    upper = datetime.combine(day, time.max, tzinfo=office.timezone)
    return list(
        Slot.objects.filter(office=office, starts_at__range=(lower, upper))
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    )


def test_slots_follow_opening_hours_in_the_offices_local_time(paris):
    created = services.slots_generate(days=6, today=date(2026, 1, 12), offices=None)
    assert created == 5 * 6  # Monday to Friday (Saturday 17, Sunday 18 closed), 6 slots a day
    monday = starts(paris, date(2026, 1, 12))
    assert monday[0] == utc(2026, 1, 12, 8, 0)  # 09:00 in Paris in winter (UTC+1)
    assert monday[-1] == utc(2026, 1, 12, 10, 30)  # last slot 11:30-12:00
    slot = Slot.objects.get(office=paris, starts_at=monday[0])
    assert (slot.capacity, slot.booked, slot.ends_at) == (2, 0, utc(2026, 1, 12, 8, 30))
    assert starts(paris, date(2026, 1, 17)) == []


def test_generation_is_idempotent(paris):
    assert services.slots_generate(days=10, today=date(2026, 1, 12)) > 0
    count = Slot.objects.count()
    assert services.slots_generate(days=10, today=date(2026, 1, 12)) == 0
    assert Slot.objects.count() == count


def test_slots_across_the_spring_dst_change_in_paris(paris):
    # Clocks go forward on Sunday 29 March 2026: 09:00 is UTC+1 on Friday, UTC+2 on Monday.
    services.slots_generate(days=4, today=date(2026, 3, 27))
    assert starts(paris, date(2026, 3, 27))[0] == utc(2026, 3, 27, 8, 0)
    assert starts(paris, date(2026, 3, 30))[0] == utc(2026, 3, 30, 7, 0)


def test_slots_across_the_autumn_dst_change_in_new_york():
    office = OfficeFactory(code="washington-ambassade", timezone=NEW_YORK, country="US")
    services.opening_hours_set(
        office=office,
        weekdays=[4, 0],
        periods=[(time(9, 0), time(10, 0))],
        slot_minutes=60,
        counters=1,
    )
    # Clocks go back on Sunday 1 November 2026: 09:00 is UTC-4 on Friday, UTC-5 on Monday.
    services.slots_generate(days=4, today=date(2026, 10, 30))
    assert starts(office, date(2026, 10, 30)) == [utc(2026, 10, 30, 13, 0)]
    assert starts(office, date(2026, 11, 2)) == [utc(2026, 11, 2, 14, 0)]


def test_wall_clock_times_that_do_not_exist_are_skipped():
    office = OfficeFactory(code="night-office", timezone=PARIS)
    OpeningHours.objects.create(
        office=office,
        weekday=6,
        starts=time(1, 0),
        ends=time(4, 0),
        slot_minutes=30,
        counters=1,
    )
    services.slots_generate(days=0, today=date(2026, 3, 29))
    local = [s.astimezone(PARIS).strftime("%H:%M") for s in starts(office, date(2026, 3, 29))]
    assert local == ["01:00", "01:30", "03:00", "03:30"]  # 02:00 and 02:30 never happen


def test_no_slots_inside_a_closure(paris):
    services.closure_create(
        office=paris,
        start_date=date(2026, 1, 13),
        end_date=date(2026, 1, 14),
        reason="Fête",
        reason_en="Holiday",
    )
    services.slots_generate(days=4, today=date(2026, 1, 12))
    assert len(starts(paris, date(2026, 1, 12))) == 6
    assert starts(paris, date(2026, 1, 13)) == []
    assert starts(paris, date(2026, 1, 14)) == []
    assert len(starts(paris, date(2026, 1, 15))) == 6


def test_a_closure_for_all_offices_applies_to_every_office(paris):
    other = OfficeFactory(code="dakar-consulat", timezone=ZoneInfo("Africa/Dakar"))
    services.opening_hours_set(
        office=other,
        weekdays=[1],
        periods=[(time(9, 0), time(10, 0))],
        slot_minutes=60,
        counters=1,
    )
    services.closure_create(
        office=None, start_date=date(2026, 1, 13), end_date=date(2026, 1, 13), reason="Deuil"
    )
    services.slots_generate(days=2, today=date(2026, 1, 12))
    assert starts(paris, date(2026, 1, 13)) == []
    assert starts(other, date(2026, 1, 13)) == []


def test_a_closure_over_booked_slots_displaces_the_appointments(paris, freeze):
    freeze("2026-01-05T10:00:00Z")
    services.slots_generate(days=10, today=date(2026, 1, 5))
    slot = Slot.objects.filter(office=paris, starts_at__date=date(2026, 1, 13)).first()
    other = Slot.objects.filter(office=paris, starts_at__date=date(2026, 1, 15)).first()
    displaced, _ = services.booking_create(slot=slot, applicant=applicant())
    kept, _ = services.booking_create(slot=other, applicant=applicant())

    closure, count = services.closure_create(
        office=paris, start_date=date(2026, 1, 13), end_date=date(2026, 1, 13), reason="Grève"
    )

    assert count == 1
    displaced.refresh_from_db()
    kept.refresh_from_db()
    slot.refresh_from_db()
    assert displaced.status == Appointment.Status.DISPLACED
    assert kept.status == Appointment.Status.BOOKED
    assert (slot.booked, slot.is_open) == (0, False)  # the seat is freed, the slot closed
    told = OutboxMessage.objects.filter(appointment_id=displaced.pk, kind="booking_displaced")
    assert told.count() == 2  # email and SMS

    services.closure_delete(closure=closure)
    slot.refresh_from_db()
    assert slot.is_open
