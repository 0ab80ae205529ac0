"""`seed_demo --scenario reopening`: the suspension with its backlog, then the reopening, on
the test database with small numbers."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, Slot, Suspension
from core.models import OutboxMessage
from demo.reopening import IDENTITY_PREFIX, on_the_minute
from production.backlog import backlog_run
from production.models import Centre, FileStatus, PassportFile, ProductionBatch

pytestmark = pytest.mark.django_db

SMALL = ["--files", "200", "--appointments", "30"]


@pytest.fixture(autouse=True)
def _monday_morning(freeze):
    # Five minutes before the reopening of Monday 24 November 2025, 07:30 in Bamako (UTC):
    # every run of these tests sees the same week, and the same day until the evening.
    freeze("2025-11-24T07:25:00Z")


def run_scenario(*options: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--force", "--scenario", "reopening", *SMALL, *options, stdout=out)
    return out.getvalue()


@pytest.fixture
def scenario() -> str:
    return run_scenario()


def scenario_files():
    return PassportFile.objects.filter(national_id__startswith=IDENTITY_PREFIX)


def scenario_appointments():
    return Appointment.objects.filter(national_id__startswith=IDENTITY_PREFIX)


def applicant(number: int) -> services.Applicant:
    return services.Applicant(
        surname="TESTEUR",
        given_names="Awa",
        birth_date=date(1990, 1, 1),
        national_id=f"TEST{number:08d}",
        email=f"test{number}@example.org",
        phone="+22370000000",
    )


def free_slot_after(moment) -> Slot:
    return (
        Slot.objects.filter(
            office__code="bko-centre", starts_at__gt=moment + timedelta(days=1), booked=0
        )
        .order_by("starts_at")
        .first()
    )


def test_the_service_is_suspended_everywhere_since_days_with_a_backlog(scenario):
    now = timezone.now()
    suspension = Suspension.objects.get()
    assert not suspension.offices.exists()  # every office
    assert suspension.starts_at <= now - timedelta(days=6)
    assert now + timedelta(minutes=4) < suspension.reopens_at <= now + timedelta(minutes=5)
    assert suspension.message
    assert suspension.message_en
    # The files wait, held by the service because of this suspension.
    assert scenario_files().count() == 200
    assert set(scenario_files().values_list("status", "held_by_service", "suspension")) == {
        (FileStatus.ON_HOLD, True, suspension.pk)
    }
    # Enrolled before the suspension, some sent to the production queue first: each file's
    # history is that of the services.
    for file in scenario_files().select_related("appointment__slot"):
        assert file.appointment.status == Appointment.Status.ENROLLED
        assert file.appointment.slot.starts_at < suspension.starts_at
        assert [e.to_status for e in file.events.order_by("pk")] in (
            [FileStatus.ENROLLED, FileStatus.ON_HOLD],
            [FileStatus.ENROLLED, FileStatus.QUEUED, FileStatus.ON_HOLD],
        )
    # The appointments inside the suspension are displaced.
    displaced = scenario_appointments().filter(status=Appointment.Status.DISPLACED)
    assert displaced.count() == 30
    assert not displaced.filter(
        Q(slot__starts_at__lt=suspension.starts_at) | Q(slot__starts_at__gte=now)
    ).exists()
    # The command says what it did and when booking reopens.
    local = suspension.reopens_at.astimezone(ZoneInfo("Africa/Bamako"))
    assert f"{local:%H:%M} Africa/Bamako" in scenario
    assert f"{suspension.reopens_at:%H:%M} UTC" in scenario
    assert "dispatch_backlog" in scenario
    assert "30 of the scenario are displaced" in scenario


def test_files_at_centres_and_missions_outlast_a_day_of_production(scenario):
    kinds = set(scenario_files().values_list("office__kind", flat=True))
    assert kinds == {"centre", "mission"}
    waiting = dict(
        PassportFile.objects.filter(held_by_service=True)
        .values_list("centre__office__code")
        .annotate(Count("pk"))
    )
    capacity = dict(Centre.objects.values_list("office__code", "daily_capacity"))
    assert any(waiting[code] > capacity[code] for code in capacity)


def test_booking_is_closed_now_and_opens_by_itself_at_the_reopening(scenario, freeze):
    reopens_at = Suspension.objects.get().reopens_at
    slot = free_slot_after(reopens_at)
    with pytest.raises(services.BookingClosed):
        services.booking_create(slot=slot, applicant=applicant(1))
    freeze(reopens_at + timedelta(seconds=1))
    appointment, _token = services.booking_create(slot=slot, applicant=applicant(1))
    assert appointment.status == Appointment.Status.BOOKED


def test_the_reopening_can_be_set_further_ahead():
    run_scenario("--reopens-in", "30")
    reopens_at = Suspension.objects.get().reopens_at
    now = timezone.now()
    assert now + timedelta(minutes=29) < reopens_at <= now + timedelta(minutes=30)


def test_the_reopening_is_on_a_whole_minute_so_it_opens_when_announced(freeze):
    # Seeded at 07:25:17.25, five minutes on is 07:30:17.25: announced "07:30", it would
    # open 17 seconds later. The demo reopens at 07:31:00, and says so.
    freeze("2025-11-24T07:25:17.250Z")
    output = run_scenario()
    reopens_at = Suspension.objects.get().reopens_at
    assert reopens_at == datetime(2025, 11, 24, 7, 31, tzinfo=UTC)
    assert "Booking reopens at 2025-11-24 07:31 Africa/Bamako" in output
    assert on_the_minute(reopens_at) == reopens_at
    assert on_the_minute(reopens_at + timedelta(microseconds=1)) == reopens_at + timedelta(
        minutes=1
    )


def test_the_dispatcher_releases_and_dispatches_within_capacity_after_the_reopening(scenario):
    reopens_at = Suspension.objects.get().reopens_at
    held = PassportFile.objects.filter(held_by_service=True).count()
    assert held >= 200
    # Before the reopening nothing moves.
    before = backlog_run(now=reopens_at - timedelta(seconds=1))
    assert (before.released, before.total_dispatched) == (0, 0)
    waiting = dict(
        PassportFile.objects.filter(Q(held_by_service=True) | Q(status=FileStatus.QUEUED))
        .values_list("centre__office__code")
        .annotate(Count("pk"))
    )
    after = reopens_at + timedelta(minutes=1)
    run = backlog_run(now=after)
    assert run.released == held
    assert not PassportFile.objects.filter(held_by_service=True).exists()
    for centre in Centre.objects.select_related("office"):
        code = centre.office.code
        assert run.dispatched[code] == min(centre.daily_capacity, waiting[code]), code
        # Its batch of the day (the demo's histories hold the batches of past days).
        batch = ProductionBatch.objects.get(
            centre=centre, day=after.astimezone(centre.office.timezone).date()
        )
        assert batch.size == run.dispatched[code] <= centre.daily_capacity
    # The rest waits for the next days; the same day takes no more.
    assert backlog_run(now=after + timedelta(minutes=5)).total_dispatched == 0
    assert PassportFile.objects.filter(status=FileStatus.QUEUED).exists()


def test_applicants_are_told_of_the_displacement_not_again_of_old_bookings(scenario):
    scenario = Appointment.objects.filter(national_id__startswith=IDENTITY_PREFIX).values("pk")
    messages = OutboxMessage.objects.filter(appointment_id__in=scenario)
    assert not messages.filter(kind="booking_confirmed", status="pending").exists()
    displaced = messages.filter(kind="booking_displaced", status="pending")
    assert displaced.count() == 30 * 2  # email and SMS
    assert not messages.filter(payload__has_key="manage_token").exists()


def snapshot() -> dict:
    return {
        "files": scenario_files().count(),
        "appointments": scenario_appointments().count(),
        "displaced": scenario_appointments().filter(status="displaced").count(),
        "held": PassportFile.objects.filter(held_by_service=True).count(),
        "messages": OutboxMessage.objects.count(),
        "suspensions": Suspension.objects.count(),
    }


def test_running_the_scenario_twice_does_not_double_the_data(scenario):
    first = snapshot()
    previous = Suspension.objects.get()
    out = run_scenario()
    assert snapshot() == first
    assert not Suspension.objects.filter(pk=previous.pk).exists()
    assert f"Ended the previous run's suspension (n° {previous.pk})" in out


def test_the_scenario_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo", "--scenario", "reopening")
    assert not Suspension.objects.exists()


def test_scenario_options_need_the_scenario():
    with pytest.raises(CommandError, match="--scenario reopening"):
        call_command("seed_demo", "--force", "--files", "10")
    assert not Suspension.objects.exists()
