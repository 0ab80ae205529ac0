"""Check-in, no-show and enrolment at the counter."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from appointments import services as appointment_services
from appointments.errors import NotChangeable
from appointments.models import Appointment
from appointments.tests.factories import OfficeFactory, book, member
from core.errors import NotFound
from core.models import Office
from production import services
from production.models import FileEvent, PassportFile
from production.tests.factories import CentreFactory
from tests.support import run_together

pytestmark = pytest.mark.django_db


def test_an_agent_checks_in_then_enrols_and_the_file_is_produced_by_the_missions_centre(paris):
    appointment, _token = book(paris.office)
    agent = member("agent", paris.office)
    appointment_services.appointment_check_in(appointment=appointment, by=agent)
    file, created = services.file_enrol(appointment=appointment, by=agent)
    assert created
    assert (file.office, file.centre) == (paris.office, paris.centre)
    assert (file.surname, file.national_id) == (appointment.surname, appointment.national_id)
    assert file.status == "enrolled"
    assert file.due_date > timezone.localdate()
    event = FileEvent.objects.get(file=file)
    assert (event.from_status, event.to_status, event.by) == ("", "enrolled", agent)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.ENROLLED


def test_a_centre_enrols_for_itself():
    centre = CentreFactory(office__code="bko-centre")
    file, _ = services.file_enrol(
        appointment=book(centre.office)[0], by=member("agent", centre.office)
    )
    assert file.centre == centre


def test_enrolment_is_idempotent(paris):
    appointment, _token = book(paris.office)
    agent = member("agent", paris.office)
    first, created = services.file_enrol(appointment=appointment, by=agent)
    again, created_again = services.file_enrol(appointment=appointment, by=agent)
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert PassportFile.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_enrol_creates_one_file(paris):
    appointment, _token = book(paris.office)
    agent = member("agent", paris.office)
    results = run_together([lambda: services.file_enrol(appointment=appointment.pk, by=agent)] * 4)
    assert all(isinstance(result, tuple) for result in results), results
    assert sorted(created for _file, created in results) == [False, False, False, True]
    assert PassportFile.objects.count() == 1
    assert FileEvent.objects.count() == 1


def test_another_offices_agent_finds_nothing(paris):
    appointment, _token = book(paris.office)
    dakar = member("agent", OfficeFactory(code="dakar-consulat"))
    for action in (appointment_services.appointment_check_in, services.file_enrol):
        with pytest.raises(NotFound):
            action(appointment=appointment, by=dakar)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_no_show_only_once_the_time_has_come(paris):
    appointment, _token = book(paris.office)  # in two hours
    agent = member("agent", paris.office)
    with pytest.raises(NotChangeable):
        appointment_services.appointment_no_show(appointment=appointment, by=agent)
    later = timezone.now() + timedelta(hours=3)
    marked = appointment_services.appointment_no_show(appointment=appointment, by=agent, now=later)
    assert marked.status == Appointment.Status.NO_SHOW
    with pytest.raises(NotChangeable):
        services.file_enrol(appointment=appointment, by=agent)


def test_a_cancelled_appointment_cannot_be_checked_in(paris):
    appointment, _token = book(paris.office)
    appointment_services.booking_cancel(appointment=appointment)
    with pytest.raises(NotChangeable):
        appointment_services.appointment_check_in(
            appointment=appointment, by=member("agent", paris.office)
        )


def test_the_premium_due_date_counts_working_days(settings):
    settings.PREMIUM_DUE_WORKING_DAYS = 3
    settings.PREMIUM_POUCH_WORKING_DAYS = 5
    centre = OfficeFactory(kind=Office.Kind.CENTRE)
    mission = OfficeFactory(kind=Office.Kind.MISSION)
    friday = date(2026, 11, 27)
    assert services.premium_due_date(office=centre, enrolled_on=friday) == date(2026, 12, 2)
    assert services.premium_due_date(office=mission, enrolled_on=friday) == date(2026, 12, 9)
