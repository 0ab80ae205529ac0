"""The estimated ready date (production/estimate.py) on a queue of known size and capacity:
batches of `daily_capacity` files in the dispatcher's order, on the days the centre works
(weekends, closures and suspensions skipped), ready one working day after the batch, and for
a mission the next pouch day plus the pouch's travel time."""

from datetime import UTC, date, datetime, timedelta

import pytest

from appointments.models import Closure, Suspension
from appointments.tests.factories import member
from consulates.models import Shipment
from production import estimate
from production.models import PassportFile, ProductionBatch
from production.tests.factories import PassportFileFactory, queued_files, works_weekdays

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # Thursday 3 December, Bamako = UTC


@pytest.fixture
def centre(bamako):
    bamako.daily_capacity = 10
    bamako.save(update_fields=["daily_capacity"])
    works_weekdays(bamako.office)
    # Tuesday 8 December closed; Thursday 10 suspended everywhere, reopening on Friday 11
    # before the office opens.
    Closure.objects.create(
        office=bamako.office, start_date=date(2026, 12, 8), end_date=date(2026, 12, 8), reason="x"
    )
    Suspension.objects.create(
        starts_at=datetime(2026, 12, 10, 0, 0, tzinfo=UTC),
        reopens_at=datetime(2026, 12, 11, 7, 30, tzinfo=UTC),
        message="Suspendu",
    )
    return bamako


def queue(centre, n: int, **fields) -> list[PassportFile]:
    return queued_files(centre, n, due_date=date(2026, 12, 10), **fields)


def ready_on(file: PassportFile, **kwargs) -> date | None:
    file.refresh_from_db()
    return estimate.estimate(file, estimate.schedule_read(now=NOW), **kwargs).ready_on


def test_a_queue_is_cut_into_daily_batches_on_the_centre_s_working_days(centre):
    files = queue(centre, 45)
    batch_days = {
        0: date(2026, 12, 3),  # today: Thursday
        9: date(2026, 12, 3),
        10: date(2026, 12, 4),  # Friday
        20: date(2026, 12, 7),  # Monday: the weekend skipped
        30: date(2026, 12, 9),  # Wednesday: Tuesday is closed
        40: date(2026, 12, 11),  # Friday: Thursday is suspended
    }
    plan = estimate.schedule_read(now=NOW)
    for position, day in batch_days.items():
        assert estimate.estimate(files[position], plan).batch_day == day, position
    # Ready the working day after its batch.
    assert ready_on(files[0]) == date(2026, 12, 4)
    assert ready_on(files[10]) == date(2026, 12, 7)
    assert ready_on(files[20]) == date(2026, 12, 9)
    assert ready_on(files[30]) == date(2026, 12, 11)
    assert ready_on(files[44]) == date(2026, 12, 14)


def test_today_s_batch_takes_only_the_room_it_has_left(centre):
    ProductionBatch.objects.create(centre=centre, day=date(2026, 12, 3), capacity=10, size=4)
    files = queue(centre, 8)
    plan = estimate.schedule_read(now=NOW)
    assert estimate.estimate(files[5], plan).batch_day == date(2026, 12, 3)
    assert estimate.estimate(files[6], plan).batch_day == date(2026, 12, 4)


def test_on_a_day_off_the_first_batch_is_the_next_working_day(centre, settings):
    files = queue(centre, 11)
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    plan = estimate.schedule_read(now=saturday)
    assert estimate.estimate(files[0], plan).batch_day == date(2026, 12, 7)
    assert estimate.estimate(files[10], plan).batch_day == date(2026, 12, 9)
    settings.PRODUCTION_WORKING_DAYS = 2
    assert estimate.estimate(files[0], plan).ready_on == date(2026, 12, 11)


def test_an_enrolled_file_takes_its_place_by_due_date(centre):
    queue(centre, 25)
    urgent = PassportFileFactory(
        centre=centre, office=centre.office, status="enrolled", due_date=date(2026, 12, 4)
    )
    assert ready_on(urgent) == date(2026, 12, 4)  # ahead of all: today's batch


def test_a_file_in_production_is_ready_after_its_batch(centre):
    batch = ProductionBatch.objects.create(centre=centre, day=date(2026, 12, 3), capacity=10)
    file = PassportFileFactory(centre=centre, status="in_production", batch=batch)
    assert ready_on(file) == date(2026, 12, 4)
    checking = PassportFileFactory(centre=centre, status="quality_check")
    assert ready_on(checking) == date(2026, 12, 4)


def test_no_date_for_a_passport_ready_delivered_rejected_or_held_by_staff(centre):
    for status in ("ready", "delivered", "rejected", "on_hold"):
        file = PassportFileFactory(centre=centre, status=status)
        assert ready_on(file) is None, status


def test_a_file_held_by_the_service_waits_for_its_office_to_reopen(centre):
    Suspension.objects.create(
        starts_at=NOW - timedelta(days=1),
        reopens_at=datetime(2026, 12, 7, 7, 0, tzinfo=UTC),
        message="Suspendu",
    ).offices.set([centre.office])
    held = PassportFileFactory(centre=centre, status="on_hold", held_by_service=True)
    assert ready_on(held) == date(2026, 12, 8 + 1)  # batch Monday 7, Tuesday closed


def test_a_suspension_without_reopening_date_gives_no_date(centre):
    Suspension.objects.create(starts_at=NOW - timedelta(days=1), message="Suspendu")
    (file,) = queue(centre, 1)
    assert ready_on(file) is None


def test_a_mission_s_file_adds_the_next_pouch_and_its_journey(centre, paris):
    works_weekdays(paris.office)
    paris.pouch_weekdays = [1, 3]  # Tuesday and Thursday
    paris.save(update_fields=["pouch_weekdays"])
    queue(centre, 10)  # fills today's batch
    file = PassportFileFactory(
        centre=centre, office=paris.office, status="queued", due_date=date(2026, 12, 11)
    )
    # Batch Friday 4, ready at the centre Monday 7, pouch Tuesday 8, 3 days' travel
    # (POUCH_TRAVEL_DAYS, no shipment measured yet): Friday 11 in Paris.
    assert ready_on(file) == date(2026, 12, 11)
    assert estimate.estimate(file, estimate.schedule_read(now=NOW)).pouch_travel_days == 3


def test_the_pouch_s_travel_time_is_measured_over_recent_shipments(centre, paris, settings):
    works_weekdays(paris.office)
    settings.POUCH_TRAVEL_MIN_SAMPLES = 3
    user = member("operator", centre.office)
    for days in (1, 1.5, 6):  # median 1.5: 2 whole days
        sent = NOW - timedelta(days=20)
        Shipment.objects.create(
            mission=paris,
            centre=centre,
            status="received",
            expected_count=1,
            received_count=1,
            sent_by=user,
            received_by=user,
            received_at=sent + timedelta(days=days),
        )
    Shipment.objects.update(sent_at=NOW - timedelta(days=20))
    plan = estimate.schedule_read(now=NOW)
    assert plan.pouches[paris.office_id].travel_days == 2
    assert plan.pouches[paris.office_id].measured
    file = PassportFileFactory(centre=centre, office=paris.office, status="queued")
    # Batch today, ready at the centre Friday 4, pouch Tuesday 8, two days: Thursday 10,
    # suspended everywhere: Friday 11.
    assert ready_on(file) == date(2026, 12, 11)


def test_a_passport_in_transit_arrives_after_the_journey(centre, paris):
    works_weekdays(paris.office)
    file = PassportFileFactory(centre=centre, office=paris.office, status="in_transit")
    shipped = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday
    assert ready_on(file, shipped_at=shipped) == date(2026, 12, 4)
    # Late: no date in the past, the next day the mission works.
    long_ago = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert ready_on(file, shipped_at=long_ago) == date(2026, 12, 3)


def test_a_queued_file_of_a_suspended_mission_waits_for_the_mission_to_reopen(centre, paris):
    works_weekdays(paris.office)
    paris.pouch_weekdays = [1, 3]
    paris.save(update_fields=["pouch_weekdays"])
    Suspension.objects.create(
        starts_at=NOW - timedelta(days=1),
        reopens_at=datetime(2026, 12, 8, 12, 0, tzinfo=UTC),  # Tuesday noon
        message="Suspendu",
    ).offices.set([paris.office])
    file = PassportFileFactory(centre=centre, office=paris.office, status="queued")
    plan = estimate.schedule_read(now=NOW)
    # Left in the queue until Tuesday 8, which Bamako does not work: batch Wednesday 9.
    assert estimate.estimate(file, plan).batch_day == date(2026, 12, 9)
