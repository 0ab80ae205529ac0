"""The backlog dashboard's projected clearing date counts the centre's working days with the
tracking estimate's calendar (production/workdays.py): never a weekend, a closure or a
suspended day, and the same day the estimate gives the last file of the queue."""

from datetime import UTC, date, datetime, timedelta

import pytest

from appointments.models import Closure, Suspension
from appointments.tests.factories import member
from core.access import StaffScope
from production import dashboard, estimate
from production.models import PassportFile, ProductionBatch
from production.tests.factories import queued_files, works_weekdays
from tests.support import token_client

pytestmark = pytest.mark.django_db

# Monday 22 December 2025, 18:00 in Bamako (UTC).
NOW = datetime(2025, 12, 22, 18, 0, tzinfo=UTC)
CLOSED = {date(2025, 12, 25), date(2026, 1, 1)}  # Christmas Day and New Year's Day
SUSPENDED = date(2025, 12, 29)  # a Monday, suspended everywhere for the day
CAPACITY = 5


@pytest.fixture
def centre(bamako):
    """Bamako: open Monday to Friday, closed on 25 December and 1 January, suspended on
    Monday 29 December; 5 files a day taken on each working day of the week before."""
    bamako.daily_capacity = CAPACITY
    bamako.save(update_fields=["daily_capacity"])
    works_weekdays(bamako.office)
    for day in CLOSED:
        Closure.objects.get_or_create(
            office=bamako.office, start_date=day, end_date=day, defaults={"reason": "Férié"}
        )
    Suspension.objects.create(
        starts_at=datetime(2025, 12, 29, 0, 0, tzinfo=UTC),
        reopens_at=datetime(2025, 12, 30, 7, 0, tzinfo=UTC),
        message="Suspendu pour la journée",
    )
    for day in range(15, 20):  # Monday 15 to Friday 19 December
        ProductionBatch.objects.create(
            centre=bamako, day=date(2025, 12, day), capacity=CAPACITY, size=CAPACITY
        )
    return bamako


def queue(centre, n: int) -> list[PassportFile]:
    return queued_files(centre, n, due_date=date(2026, 1, 5))


def row(centre) -> dashboard.OfficeBacklog:
    (figures,) = dashboard.backlog_figures(scope=StaffScope(is_admin=True), now=NOW)
    assert figures.office == centre.office
    return figures


def test_the_projected_date_skips_weekends_closures_and_suspended_days(centre, freeze):
    ProductionBatch.objects.create(centre=centre, day=NOW.date(), capacity=CAPACITY, size=5)
    queue(centre, 60)

    figures = row(centre)

    assert (figures.backlog, figures.rate_per_day) == (60, 5.0)
    # Today's batch is taken: 12 more working days of 5. Tue 23, Wed 24, (Christmas), Fri 26,
    # (the weekend, the suspended Monday) Tue 30, Wed 31, (New Year's Day) Fri 2, Mon 5 ...
    assert figures.projected_clear_date == date(2026, 1, 12)
    freeze(NOW)
    body = token_client(member("admin")).get("/api/v1/backlog/").json()
    assert body["offices"][0]["projected_clear_date"] == "2026-01-12"  # the API's is the same
    days = figures.production_days
    projected = [
        days.clearing_day(waiting=n, per_day=figures.rate_per_day, taken_today=5)
        for n in range(1, 200)
    ]
    assert projected == sorted(projected)
    for day in projected:
        assert day.weekday() < 5, day
        assert day not in CLOSED, day
        assert day != SUSPENDED, day
    assert {day.weekday() for day in projected} == {0, 1, 2, 3, 4}


@pytest.mark.parametrize("taken_today", [0, 2, 5], ids=["before", "during", "after"])
def test_the_dashboard_and_the_estimate_give_the_same_day(centre, taken_today):
    """At a centre taking its capacity each day, the day the dashboard says the backlog is
    cleared is the day the estimate gives the last file of the queue's batch, and so for a
    queue of every length."""
    if taken_today:
        ProductionBatch.objects.create(
            centre=centre, day=NOW.date(), capacity=CAPACITY, size=taken_today
        )
    files = queue(centre, 42)
    plan = estimate.schedule_read(now=NOW)

    figures = row(centre)

    if taken_today in (0, CAPACITY):  # (a part of a day's batch lowers the mean)
        assert figures.rate_per_day == CAPACITY  # the mean of full days: the capacity
        assert figures.projected_clear_date == estimate.estimate(files[-1], plan).batch_day
    for n, file in enumerate(files, start=1):
        dashboard_day = figures.production_days.clearing_day(
            waiting=n, per_day=CAPACITY, taken_today=taken_today
        )
        assert dashboard_day == estimate.estimate(file, plan).batch_day, n


def test_no_working_day_in_sight_no_date(centre):
    """An open-ended suspension: the estimate gives no date, nor does the dashboard."""
    Suspension.objects.create(starts_at=NOW - timedelta(hours=1), message="Jusqu’à nouvel ordre")
    files = queue(centre, 3)

    figures = row(centre)

    assert figures.rate_per_day == CAPACITY
    assert figures.projected_clear_date is None
    assert estimate.estimate(files[-1], estimate.schedule_read(now=NOW)).ready_on is None
