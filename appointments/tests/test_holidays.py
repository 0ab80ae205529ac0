"""Public holidays: offices close on their country's, as closures an administrator can
override; the sync is idempotent and never closes an overridden day again."""

from datetime import date, datetime, time

import pytest
from django.db import IntegrityError, transaction

from appointments import selectors, services
from appointments.models import Appointment, Closure, HolidayOverride, Slot
from appointments.schedules import SCHEDULES
from appointments.tests.factories import (
    bamako_centre,
    book,
    member,
    paris_consulate,
    weekday_mornings,
)
from core.models import OutboxMessage
from tests.support import log_in

pytestmark = pytest.mark.django_db


def offered(office, first: date, last: date) -> set[date]:
    """The days the office page and the API offer (the booking rule's SQL function)."""
    return {day.day for day in selectors.free_days(office=office, date_from=first, date_to=last)}


def prepare(office, freeze, today: date) -> None:
    """As beat does each night: the holidays first, then the slots."""
    freeze(datetime.combine(today, time(6, 0), tzinfo=office.timezone))
    weekday_mornings(office)
    services.holidays_sync(today=today)
    services.slots_generate(today=today)


@pytest.fixture
def paris():
    return paris_consulate()


@pytest.fixture
def bamako():
    return bamako_centre()


def test_christmas_is_not_offered_at_the_paris_consulate(paris, freeze):
    prepare(paris, freeze, date(2026, 12, 1))
    days = offered(paris, date(2026, 12, 1), date(2026, 12, 31))
    assert date(2026, 12, 24) in days  # a Thursday
    assert date(2026, 12, 25) not in days  # Christmas, a Friday
    assert not Slot.objects.filter(
        office=paris, starts_at__date=date(2026, 12, 25)
    ).exists()  # never made, so never booked
    christmas = Closure.objects.get(office=paris, start_date=date(2026, 12, 25))
    assert (christmas.source, christmas.end_date) == ("holiday", date(2026, 12, 25))
    assert (christmas.reason, christmas.reason_en) == ("Noël", "Christmas Day")


def test_the_month_says_why_a_day_is_closed_in_the_applicants_language(client, paris, freeze):
    prepare(paris, freeze, date(2026, 12, 1))
    french = client.get(f"/bureaux/{paris.code}/?mois=2026-12").content.decode()
    assert "vendredi 25 décembre : fermé (Noël)" in french
    assert '<span class="off closed">25<span class="visually-hidden">, Noël</span>' in french
    assert "24 décembre :" not in french  # an open day is not listed
    english = client.get(f"/en/bureaux/{paris.code}/?mois=2026-12").content.decode()
    assert "Friday 25 December: closed (Christmas Day)" in english


def test_malis_independence_day_is_not_offered_at_bamako(bamako, freeze):
    prepare(bamako, freeze, date(2026, 9, 1))
    days = offered(bamako, date(2026, 9, 1), date(2026, 9, 30))
    assert date(2026, 9, 21) in days  # a Monday
    assert date(2026, 9, 22) not in days  # a Tuesday: the national day
    closure = Closure.objects.get(office=bamako, start_date=date(2026, 9, 22))
    assert closure.reason == "Fête Nationale de la République du Mali"
    assert closure.reason_en == "National Day of the Republic of Mali"


def test_the_islamic_holidays_are_included_where_the_package_has_them():
    first, last = date(2026, 1, 1), date(2026, 12, 31)
    mali = services.public_holidays("ML", first, last)
    assert mali[date(2026, 3, 20)][1].startswith("Eid al-Fitr")
    assert mali[date(2026, 5, 27)][0].startswith("Journée de la Tabaski")
    assert mali[date(2026, 8, 25)][1].startswith("Prophet's Birthday")  # Mawlid
    senegal = services.public_holidays("SN", first, last)
    assert senegal[date(2026, 5, 27)][1].startswith("Eid al-Adha")
    ivory_coast = services.public_holidays("CI", first, last)
    assert ivory_coast[date(2026, 5, 27)] == ("Fête de la Tabaski", "Eid al-Adha")
    # The United States' federal holidays, in English for want of French.
    assert services.public_holidays("US", first, last)[date(2026, 7, 3)][0].startswith(
        "Independence Day"
    )


def test_the_sync_run_twice_creates_nothing_new(paris, bamako, freeze):
    prepare(paris, freeze, date(2026, 12, 1))
    closures = list(Closure.objects.order_by("pk").values_list("pk", "office", "start_date"))
    assert len(closures) >= 4  # Christmas in Paris; 25 Dec, 1 and 20 January in Bamako
    slots = Slot.objects.count()

    assert services.holidays_sync(today=date(2026, 12, 1)) == 0
    assert services.holidays_sync() == 0  # the offices' own today: the same days
    assert list(Closure.objects.order_by("pk").values_list("pk", "office", "start_date")) == (
        closures
    )
    assert Slot.objects.count() == slots


def test_the_horizon_covers_the_booking_horizon_and_a_month_more(paris, freeze):
    freeze("2026-10-01T06:00:00Z")
    services.holidays_sync(today=date(2026, 10, 1))
    days = set(Closure.objects.filter(office=paris).values_list("start_date", flat=True))
    # 1 and 11 November, 25 December: within 90 days; 1 January 2027 is 92 days ahead.
    assert days == {date(2026, 11, 1), date(2026, 11, 11), date(2026, 12, 25)}
    assert services.HOLIDAY_HORIZON_DAYS == services.SLOT_HORIZON_DAYS + 30


def test_an_administrator_reopens_a_holiday_and_the_sync_leaves_it_open(client, paris, freeze):
    prepare(paris, freeze, date(2026, 12, 1))
    christmas = Closure.objects.get(office=paris, start_date=date(2026, 12, 25))
    log_in(client, member("admin", username="minister", is_staff=True, is_superuser=True))

    listing = client.get("/admin/appointments/closure/?source__exact=holiday")
    assert "Noël" in listing.content.decode()
    response = client.post(f"/admin/appointments/closure/{christmas.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302

    override = HolidayOverride.objects.get()
    assert (override.office, override.date, override.name) == (paris, date(2026, 12, 25), "Noël")
    assert services.holidays_sync(today=date(2026, 12, 1)) == 0
    assert not Closure.objects.filter(office=paris, start_date=date(2026, 12, 25)).exists()
    # Its slots, never made while it was closed, are made at once: the day is offered.
    assert date(2026, 12, 25) in offered(paris, date(2026, 12, 1), date(2026, 12, 31))

    # Deleting the override gives the day back to the calendar, closed at once.
    response = client.post(
        f"/admin/appointments/holidayoverride/{override.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not HolidayOverride.objects.exists()
    assert Closure.objects.filter(office=paris, start_date=date(2026, 12, 25)).exists()
    assert date(2026, 12, 25) not in offered(paris, date(2026, 12, 1), date(2026, 12, 31))


def test_a_holiday_can_be_kept_open_before_the_sync_reaches_it(paris, freeze):
    freeze("2026-10-01T06:00:00Z")
    services.holiday_keep_open(office=paris, day=date(2026, 12, 25), name="Noël")
    services.holidays_sync(today=date(2026, 10, 1))
    assert not Closure.objects.filter(office=paris, start_date=date(2026, 12, 25)).exists()
    assert Closure.objects.filter(office=paris, start_date=date(2026, 11, 11)).exists()


def test_a_holiday_found_after_bookings_displaces_them_and_tells_the_applicants(paris, freeze):
    freeze("2026-12-01T06:00:00Z")
    weekday_mornings(paris)
    services.slots_generate(today=date(2026, 12, 1))  # before any sync: 25 December is open
    slot = Slot.objects.filter(office=paris, starts_at__date=date(2026, 12, 25)).first()
    appointment, _token = book(slot=slot)

    assert services.holidays_sync(today=date(2026, 12, 1)) >= 1

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.DISPLACED
    assert OutboxMessage.objects.filter(
        appointment_id=appointment.pk, kind="booking_displaced"
    ).exists()
    assert date(2026, 12, 25) not in offered(paris, date(2026, 12, 1), date(2026, 12, 31))


def test_a_holiday_the_package_no_longer_lists_is_reopened(paris, freeze):
    prepare(paris, freeze, date(2026, 12, 1))
    # As if an earlier release had estimated a holiday on 16 December.
    stale, _displaced = services.closure_create(
        office=paris,
        start_date=date(2026, 12, 16),
        end_date=date(2026, 12, 16),
        reason="Fête estimée",
        source=Closure.Source.HOLIDAY,
    )
    services.holidays_sync(today=date(2026, 12, 1))
    assert not Closure.objects.filter(pk=stale.pk).exists()
    assert not HolidayOverride.objects.exists()  # no administrator kept it open
    assert date(2026, 12, 16) in offered(paris, date(2026, 12, 1), date(2026, 12, 31))
    assert Closure.objects.filter(office=paris, start_date=date(2026, 12, 25)).exists()


def holiday(office, day: date, reason: str = "Fête") -> Closure:
    """A holiday closure written as the sync writes them, but by hand."""
    return Closure(
        office=office, start_date=day, end_date=day, reason=reason, source=Closure.Source.HOLIDAY
    )


def test_the_database_keeps_one_holiday_closure_per_office_and_day(paris):
    services.holidays_sync(today=date(2026, 12, 1), offices=[paris])
    with pytest.raises(IntegrityError), transaction.atomic():
        holiday(paris, date(2026, 12, 25), "Noël").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        holiday(None, date(2026, 12, 26)).save()  # a holiday is one office's: its country's


def test_the_sync_is_a_periodic_task_before_the_slot_generation(paris, freeze):
    from appointments import tasks

    schedules = {schedule.name: schedule for schedule in SCHEDULES}
    holidays = schedules["public holidays"]
    assert holidays.task == tasks.holidays_sync.name == "appointments.holidays_sync"
    freeze("2026-12-01T06:00:00Z")
    assert tasks.holidays_sync.apply().get() == 2  # Christmas and New Year's Day in Paris
    # Each night the holidays are closed before the slots of the new day are made.
    slots = schedules["slot generation"]
    assert minute_of_day(holidays.crontab) < minute_of_day(slots.crontab)


def minute_of_day(crontab: dict) -> int:
    return int(crontab["hour"]) * 60 + int(crontab["minute"])


def test_the_tracking_estimate_counts_a_holiday_as_a_day_off(bamako, freeze):
    from production.estimate import office_calendars

    prepare(bamako, freeze, date(2026, 9, 1))
    calendar = office_calendars(datetime(2026, 9, 1, 6, 0, tzinfo=bamako.timezone))[bamako.pk]
    assert calendar.works_on(date(2026, 9, 21))
    assert not calendar.works_on(date(2026, 9, 22))
