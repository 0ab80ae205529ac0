"""The management of a booking by its token (read, cancel, reschedule) through the API."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, Slot, Suspension
from appointments.tests.api_bookings import (
    BOOKINGS,
    assert_error,
    book,
    manage,
)
from appointments.tests.factories import (
    OfficeFactory,
    SlotFactory,
    applicant,
    paris_consulate,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]


# Managing a booking ------------------------------------------------------------------------


def test_a_booking_is_read_with_its_token(api, slot, booking):
    reference, token = booking
    response = manage(api, "get", reference, token)
    assert response.status_code == 200
    assert response.json() == {
        "reference": reference,
        "status": "booked",
        "hold_expires_at": None,
        "office": "bko-centre",
        "starts_at": slot.starts_at.astimezone(ZoneInfo("Africa/Bamako")).isoformat(),
        "ends_at": slot.ends_at.astimezone(ZoneInfo("Africa/Bamako")).isoformat(),
        "surname": "TRAORÉ",
        "given_names": "Aminata",
        "notify_email": True,
        "notify_sms": True,
    }
    assert "no-store" in response["Cache-Control"]
    # Typed in lower case or without its hyphen, it is the same reference.
    assert manage(api, "get", reference.replace("-", "").lower(), token).status_code == 200


def test_a_wrong_missing_or_other_token_is_not_found(api, slot, booking):
    reference, token = booking
    other = book(api, slot).json()
    for attempt in (
        manage(api, "get", reference, "wrong-token"),
        manage(api, "get", reference, None),
        manage(api, "get", reference, ""),
        manage(api, "get", reference, other["manage_token"]),
        manage(api, "get", "ACDE-FGHJ", token),
        manage(api, "get", "not a reference at all " * 50, token),
    ):
        body = assert_error(attempt, 404, "not_found")
        assert body["detail"] == "Rendez-vous introuvable."


def test_cancel_frees_the_seat(api, slot, booking):
    reference, token = booking
    slot.refresh_from_db()
    assert slot.booked == 1
    response = manage(api, "post", reference, token, "cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["reference"] == reference
    slot.refresh_from_db()
    assert slot.booked == 0
    assert_error(manage(api, "post", reference, token, "cancel/"), 409, "not_changeable")


def test_cancel_with_a_wrong_or_other_token_changes_nothing(api, slot, booking):
    reference, _token = booking
    other = book(api, slot).json()
    for token in ("wrong", None, other["manage_token"]):
        assert_error(manage(api, "post", reference, token, "cancel/"), 404, "not_found")
    assert Appointment.objects.get(reference=reference).status == "booked"
    slot.refresh_from_db()
    assert slot.booked == 2


def assert_not_moved(reference: str, slot: Slot, target: Slot) -> None:
    """A refused move leaves the appointment and both seats where they were."""
    assert Appointment.objects.get(reference=reference).slot_id == slot.pk
    slot.refresh_from_db()
    target.refresh_from_db()
    assert (slot.booked, target.booked) == (1, 0)


def test_reschedule_moves_the_seat(api, slot, booking):
    reference, token = booking
    target = SlotFactory(office=slot.office, capacity=2)
    response = manage(api, "post", reference, token, "reschedule/", slot=target.pk)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "booked"
    assert body["starts_at"] == target.starts_at.astimezone(ZoneInfo("Africa/Bamako")).isoformat()
    slot.refresh_from_db()
    target.refresh_from_db()
    assert (slot.booked, target.booked) == (0, 1)
    assert Appointment.objects.get(reference=reference).slot_id == target.pk


def test_reschedule_to_a_full_slot_answers_slot_full(api, slot, booking):
    reference, token = booking
    full = SlotFactory(office=slot.office, capacity=1)
    services.booking_create(slot=full, applicant=applicant())
    later = SlotFactory(office=slot.office, capacity=2)  # free, after the full one
    body = assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=full.pk), 409, "slot_full"
    )
    assert isinstance(body["next_free"], list)
    assert [s["id"] for s in body["next_free"]] == [later.pk]
    assert all(set(s) == {"id", "starts_at", "ends_at", "remaining"} for s in body["next_free"])
    slot.refresh_from_db()
    assert slot.booked == 1


def test_reschedule_to_a_past_slot_answers_slot_past(api, slot, booking):
    reference, token = booking
    past = SlotFactory(office=slot.office, starts_at=timezone.now() - timedelta(days=1))
    assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=past.pk), 409, "slot_past"
    )
    assert_not_moved(reference, slot, past)


def test_reschedule_into_a_suspension_answers_booking_closed(api, slot, booking):
    reference, token = booking
    later = SlotFactory(office=slot.office, starts_at=slot.starts_at + timedelta(days=10))
    Suspension.objects.create(
        starts_at=later.starts_at - timedelta(hours=1),
        reopens_at=later.starts_at + timedelta(days=1),
        message="Fermé ce jour-là.",
    )
    body = assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=later.pk), 409, "booking_closed"
    )
    assert body["reopens_at"] is not None
    assert_not_moved(reference, slot, later)


def test_a_cancelled_booking_cannot_be_rescheduled(api, slot, booking):
    reference, token = booking
    manage(api, "post", reference, token, "cancel/")
    target = SlotFactory(office=slot.office)
    assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=target.pk), 409, "not_changeable"
    )
    appointment = Appointment.objects.get(reference=reference)
    assert (appointment.status, appointment.slot_id) == ("cancelled", slot.pk)
    target.refresh_from_db()
    assert target.booked == 0


@pytest.mark.parametrize("value", ["abc", None, 10**30])
def test_reschedule_with_a_bad_slot_is_invalid(api, booking, value):
    reference, token = booking
    body = assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=value), 400, "invalid"
    )
    assert set(body["fields"]) == {"slot"}


def test_reschedule_to_another_office_slot_is_invalid(api, slot, booking):
    reference, token = booking
    elsewhere = SlotFactory(office=OfficeFactory(code="paris-consulat"))
    body = assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=elsewhere.pk), 400, "invalid"
    )
    assert set(body["fields"]) == {"slot"}
    slot.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (slot.booked, elsewhere.booked) == (1, 0)


def test_reschedule_with_a_wrong_token_is_not_found_before_anything_else(api, slot, booking):
    reference, _token = booking
    target = SlotFactory(office=slot.office)
    assert_error(
        manage(api, "post", reference, "wrong", "reschedule/", slot=target.pk), 404, "not_found"
    )
    assert_error(
        manage(api, "post", reference, "wrong", "reschedule/", slot="abc"), 404, "not_found"
    )
    target.refresh_from_db()
    assert target.booked == 0


def test_times_in_the_answers_use_the_office_offset_in_summer(api, freeze):
    freeze("2026-03-01T12:00:00Z")
    slot = SlotFactory(office=paris_consulate(), starts_at=datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    created = book(api, slot, phone="+33612345678").json()
    assert created["starts_at"] == "2026-03-30T09:00:00+02:00"
    read = manage(api, "get", created["reference"], created["manage_token"]).json()
    assert (read["starts_at"], read["ends_at"]) == (
        "2026-03-30T09:00:00+02:00",
        "2026-03-30T09:15:00+02:00",
    )


def test_details_follow_the_request_language(api):
    french = assert_error(api.get(BOOKINGS), 405, "method_not_allowed")
    english = assert_error(api.get(BOOKINGS, HTTP_ACCEPT_LANGUAGE="en"), 405, "method_not_allowed")
    assert french["detail"] == "Méthode «\xa0GET\xa0» non autorisée."
    assert english["detail"] == 'Method "GET" not allowed.'


def test_an_office_code_that_is_not_a_slug_is_a_json_not_found(api):
    response = api.get("/api/v1/offices/Paris Consulat/slots/?from=2026-01-01&to=2026-01-02")
    assert_error(response, 404, "not_found")
