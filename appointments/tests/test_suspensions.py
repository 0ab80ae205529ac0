"""A suspension closes booking until its reopening, which needs no one: at 07:30:00 Africa/
Bamako booking is open, at 07:29:59 it is not, for a centre and for a mission in another
timezone. And a booking racing the creation of a suspension or a closure never ends up
booked inside it."""

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from appointments import selectors, services
from appointments.errors import BookingClosed
from appointments.models import Appointment, Suspension
from appointments.tests.factories import (
    SlotFactory,
    applicant,
    bamako_centre,
    member,
    paris_consulate,
)
from core.errors import Forbidden

pytestmark = pytest.mark.django_db

REOPENING = datetime(2025, 11, 24, 7, 30, tzinfo=ZoneInfo("Africa/Bamako"))


@pytest.fixture
def suspended(freeze):
    freeze("2025-11-17T00:00:00Z")
    return services.suspension_create(
        by=member("admin"),
        starts_at=datetime(2025, 11, 17, tzinfo=UTC),
        reopens_at=REOPENING,
        office_codes=None,
        message_fr="Le service Premium est suspendu.",
        message_en="The Premium service is suspended.",
    )


@pytest.mark.parametrize(
    ("office", "local_start"),
    [
        (bamako_centre, datetime(2025, 11, 24, 9, 0, tzinfo=ZoneInfo("Africa/Bamako"))),
        (paris_consulate, datetime(2025, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))),
    ],
    ids=["centre in Bamako", "mission in Paris"],
)
def test_booking_opens_at_the_reopening_to_the_second(suspended, freeze, office, local_start):
    office = office()
    slot = SlotFactory(office=office, starts_at=local_start, capacity=1)
    day = local_start.date()

    freeze(REOPENING - timedelta(seconds=1))
    with pytest.raises(BookingClosed) as closed:
        services.booking_create(slot=slot, applicant=applicant())
    assert closed.value.extra["reopens_at"] == "2025-11-24T07:30:00+00:00"
    assert list(selectors.free_slots(office=office, date_from=day, date_to=day)) == []

    freeze(REOPENING)
    assert list(selectors.free_slots(office=office, date_from=day, date_to=day)) == [slot]
    appointment, _token = services.booking_create(slot=slot, applicant=applicant())
    assert appointment.status == Appointment.Status.BOOKED


def _in_a_thread(function, results: list) -> threading.Thread:
    def run():
        try:
            results.append(function())
        except Exception as error:
            results.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["booking", "move"])
@pytest.mark.parametrize("act", ["suspension", "closure"])
def test_a_booking_racing_a_suspension_or_closure_is_refused_not_left_inside(act, how):
    office = paris_consulate()
    slot = SlotFactory(office=office, capacity=2)
    elsewhere = SlotFactory(office=office, starts_at=slot.starts_at + timedelta(days=3))
    moving = services.booking_create(slot=elsewhere, applicant=applicant())[0]
    admin = member("admin")
    made, commit = threading.Event(), threading.Event()

    def suspend_and_wait():
        with transaction.atomic():
            if act == "suspension":
                services.suspension_create(
                    by=admin,
                    starts_at=slot.starts_at - timedelta(hours=1),
                    reopens_at=slot.ends_at,
                    office_codes=[office.code],
                    message_fr="Suspendu.",
                )
            else:
                local_day = slot.starts_at.astimezone(office.timezone).date()
                services.closure_create(
                    office=office, start_date=local_day, end_date=local_day, reason="Fermé."
                )
            made.set()
            commit.wait(20)  # the booking arrives now, before this commits

    admin_results, booking_results = [], []
    admin_thread = _in_a_thread(suspend_and_wait, admin_results)
    assert made.wait(20)
    if how == "booking":
        racing = lambda: services.booking_create(slot=slot, applicant=applicant())  # noqa: E731
    else:
        racing = lambda: services.booking_reschedule(appointment=moving, slot=slot)  # noqa: E731
    booking_thread = _in_a_thread(racing, booking_results)
    time.sleep(0.5)
    assert booking_thread.is_alive()  # held back until the suspension or closure commits
    commit.set()
    admin_thread.join(20)
    booking_thread.join(20)

    assert len(admin_results) == 1
    assert not isinstance(admin_results[0], Exception), admin_results
    assert isinstance(booking_results[0], BookingClosed), booking_results
    assert not Appointment.objects.filter(slot=slot, status=Appointment.Status.BOOKED).exists()
    moving.refresh_from_db()
    assert (moving.slot_id, moving.status) == (elsewhere.pk, Appointment.Status.BOOKED)


def test_a_suspension_needs_an_administrator_and_a_reopening_after_its_start():
    start = datetime(2025, 11, 17, tzinfo=UTC)
    with pytest.raises(services.InvalidSuspension):
        services.suspension_create(
            by=member("admin"),
            starts_at=start,
            reopens_at=start - timedelta(days=1),
            office_codes=None,
            message_fr="x",
        )
    with pytest.raises(Forbidden):
        services.suspension_create(
            by=member("supervisor", paris_consulate()),
            starts_at=start,
            reopens_at=None,
            office_codes=None,
            message_fr="x",
        )
    assert not Suspension.objects.exists()


def test_a_displaced_appointment_is_moved_from_its_manage_link(client):
    office = paris_consulate()
    inside = SlotFactory(office=office, capacity=1)
    later = SlotFactory(office=office, starts_at=inside.starts_at + timedelta(days=3), capacity=1)
    appointment, token = services.booking_create(slot=inside, applicant=applicant())
    services.suspension_create(
        by=member("admin"),
        starts_at=inside.starts_at - timedelta(hours=1),
        reopens_at=inside.ends_at,
        office_codes=[office.code],
        message_fr="Suspendu.",
    )
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.DISPLACED
    manage = f"/rendez-vous/{appointment.reference}/{token}/"
    assert "Déplacer le rendez-vous" in client.get(manage).content.decode()

    response = client.post(manage + "deplacer/", {"slot": later.pk}, follow=True)

    assert "Votre rendez-vous est déplacé." in response.content.decode()
    appointment.refresh_from_db()
    later.refresh_from_db()
    inside.refresh_from_db()
    assert (appointment.status, appointment.slot_id) == (Appointment.Status.BOOKED, later.pk)
    assert (later.booked, inside.booked) == (1, 0)
