"""The agenda offers exactly the counter actions the services accept (counter_actions):
no "absent" before the appointment's time, no action on a cancelled one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments import services
from appointments.errors import NotChangeable
from appointments.models import Appointment, Slot
from appointments.services import counter_actions
from appointments.tests.factories import SlotFactory, book, member, move

pytestmark = pytest.mark.django_db


def _agenda(client, appointment) -> str:
    office = appointment.office
    day = appointment.slot.starts_at.astimezone(office.timezone).date().isoformat()
    return client.get(f"/staff/agenda/{office.code}/?date={day}").content.decode()


def _buttons(page: str, appointment) -> set[str]:
    return {
        action
        for action in ("check-in", "no-show", "enrol")
        if f"/staff/rendez-vous/{appointment.reference}/{action}/" in page
    }


@pytest.mark.parametrize(
    ("starts_in", "status", "offered"),
    [
        (timedelta(hours=2), "booked", {"check-in", "enrol"}),
        (timedelta(minutes=-5), "booked", {"check-in", "no-show", "enrol"}),
        (timedelta(hours=2), "checked_in", {"enrol"}),
        (timedelta(minutes=-5), "cancelled", set()),
        (timedelta(minutes=-5), "no_show", set()),
    ],
)
def test_the_agenda_offers_what_the_services_accept(client, paris, starts_in, status, offered):
    slot = SlotFactory(office=paris.office, starts_at=timezone.now() + timedelta(hours=1))
    appointment = book(slot=slot)[0]
    # Then the clock moves on (or not) and the appointment reaches its status.
    start = timezone.now() + starts_in
    Slot.objects.filter(pk=slot.pk).update(starts_at=start, ends_at=start + timedelta(minutes=15))
    move(Appointment.objects.filter(pk=appointment.pk), status)
    appointment.refresh_from_db()
    agent = member("agent", paris.office)
    client.force_login(agent)

    assert _buttons(_agenda(client, appointment), appointment) == offered
    assert set(counter_actions(appointment=appointment, now=timezone.now())) == offered

    # Each action not offered is refused by its service, and changes nothing.
    if "no-show" not in offered and status == "booked":
        with pytest.raises(NotChangeable):
            services.appointment_no_show(appointment=appointment, by=agent)
    if "check-in" not in offered and status not in ("checked_in",):
        with pytest.raises(NotChangeable):
            services.appointment_check_in(appointment=appointment, by=agent)
    appointment.refresh_from_db()
    assert appointment.status == status


def test_a_counter_action_never_redirects_off_the_site(client, paris):
    appointment = book(slot=SlotFactory(office=paris.office, capacity=1))[0]
    client.force_login(member("agent", paris.office))
    url = f"/staff/rendez-vous/{appointment.reference}/check-in/"
    response = client.post(url, {"next": "https://evil.example/phish"})
    assert response.status_code == 302
    assert response.url == "/staff/"
    response = client.post(url, {"next": "/staff/dossiers/"})
    assert response.url == "/staff/dossiers/"
