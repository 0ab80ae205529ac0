"""The counter frees an identity number that somebody else booked with: after checking the
person's identity document, an agent ends the bookings and holds made with it (at any office),
the agent and the reason recorded in events nobody can edit; the rightful person can then
book. An agent learns nothing of another office's bookings by it."""

import pytest
from django.db import IntegrityError, connection, transaction

from appointments import services
from appointments.errors import AlreadyBooked, EvictionRefused
from appointments.models import AppointmentEvent
from appointments.tests.factories import OfficeFactory, SlotFactory, applicant, member, someone
from core.errors import NotFound
from core.models import OutboxMessage
from tests.support import log_in

pytestmark = pytest.mark.django_db

NINA = "NINA31310001"
REASON = "Carte NINA présentée – réservation faite par un tiers"


@pytest.fixture
def squatted(paris):
    """A booking at Bamako made by a tout with the NINA of a person who is in Paris."""
    bamako_slot = SlotFactory(office=OfficeFactory(code="bko-annexe", kind="centre"))
    appointment, _token = services.booking_create(
        slot=bamako_slot,
        applicant=applicant(national_id=NINA, surname="KEITA", email="tout@example.net"),
    )
    return appointment


def test_the_agent_frees_the_number_and_the_person_books(paris, squatted):
    agent = member("agent", paris.office)
    person = applicant(national_id=NINA, surname="DIARRA")
    paris_slot = SlotFactory(office=paris.office)
    with pytest.raises(AlreadyBooked):
        services.booking_create(slot=paris_slot, applicant=person)

    ended = services.appointment_evict(
        national_id=NINA, office=paris.office, by=agent, reason=REASON
    )

    assert [a.pk for a in ended] == [squatted.pk]
    squatted.refresh_from_db()
    assert squatted.status == "cancelled"
    [event] = AppointmentEvent.objects.filter(appointment=squatted)
    assert (event.from_status, event.to_status, event.by, event.action) == (
        "booked",
        "cancelled",
        agent,
        "evict",
    )
    assert REASON in event.note
    assert paris.office.code in event.note
    # The one who booked with the number is told it was cancelled.
    assert OutboxMessage.objects.filter(
        appointment_id=squatted.pk, kind="booking_cancelled"
    ).exists()
    appointment, _token = services.booking_create(slot=paris_slot, applicant=person)
    assert appointment.status == "booked"


def test_an_eviction_event_cannot_be_edited_nor_deleted(paris, squatted):
    services.appointment_evict(
        national_id=NINA, office=paris.office, by=member("agent", paris.office), reason=REASON
    )
    event = AppointmentEvent.objects.get()
    for statement in (
        "UPDATE appointments_appointmentevent SET note = 'rien' WHERE id = %s",
        "DELETE FROM appointments_appointmentevent WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    assert AppointmentEvent.objects.get().note == event.note


def test_pending_holds_and_displaced_bookings_end_too_and_others_stay(paris, settings):
    settings.BOOKING_VERIFY_CONTACT = True
    hold, _token = services.booking_create(
        slot=SlotFactory(office=paris.office), applicant=someone(national_id=NINA)
    )
    other, _token = services.booking_create(
        slot=SlotFactory(office=paris.office), applicant=someone()
    )

    services.appointment_evict(
        national_id=NINA, office=paris.office, by=member("agent", paris.office), reason=REASON
    )

    hold.refresh_from_db()
    other.refresh_from_db()
    assert (hold.status, other.status) == ("expired", "pending")


def test_a_reason_is_required(paris, squatted):
    with pytest.raises(EvictionRefused):
        services.appointment_evict(
            national_id=NINA, office=paris.office, by=member("agent", paris.office), reason=" "
        )
    squatted.refresh_from_db()
    assert squatted.status == "booked"


def test_only_a_counter_of_the_office_may_evict(paris, squatted):
    dakar = OfficeFactory(code="dakar-consulat")
    for outsider in (member("agent", dakar), member("operator", paris.office)):
        with pytest.raises(NotFound):
            services.appointment_evict(
                national_id=NINA, office=paris.office, by=outsider, reason=REASON
            )
    squatted.refresh_from_db()
    assert squatted.status == "booked"
    assert not AppointmentEvent.objects.exists()


def test_the_page_frees_the_number_and_says_how_many_without_where(client, paris, squatted):
    log_in(client, member("agent", paris.office))
    url = f"/staff/agenda/{paris.office.code}/liberer-un-numero/"
    assert client.get(f"/staff/agenda/{paris.office.code}/").content.decode().count(url) == 1

    unchecked = client.post(
        url,
        {
            "national_id": "nina-3131 0001",
            "document": "carte NINA",
            "reason": "Réservé par un tiers",
        },
    )
    assert unchecked.status_code == 400
    squatted.refresh_from_db()
    assert squatted.status == "booked"

    response = client.post(
        url,
        {
            "national_id": "nina-3131 0001",
            "document": "carte NINA",
            "reason": "Réservé par un tiers",
            "checked": "on",
        },
        follow=True,
    )

    squatted.refresh_from_db()
    assert squatted.status == "cancelled"
    page = response.content.decode()
    assert "1 rendez-vous ou place retenue avec ce numéro a pris fin" in page
    assert "bko-annexe" not in page
    assert squatted.reference not in page


def test_the_page_of_another_office_is_not_found(client, paris):
    dakar = OfficeFactory(code="dakar-consulat")
    log_in(client, member("agent", dakar))
    assert client.get(f"/staff/agenda/{paris.office.code}/liberer-un-numero/").status_code == 404
