"""Around a reopening an admission from the waiting room holds one seat at a time, and a move
of an existing booking waits its turn like a booking: neither a bearer admission used over
and over nor a booking made earlier jumps the line."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from appointments import services, waiting_room
from appointments.models import Appointment, Suspension
from appointments.tests.api_bookings import BOOKINGS, assert_error, manage, payload
from appointments.tests.factories import CentreOfficeFactory, SlotFactory, applicant, move

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]

REOPENS_AT = datetime(2025, 11, 24, 7, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_draws():
    waiting_room.forget_draws()
    yield
    waiting_room.forget_draws()


@pytest.fixture
def office():
    return CentreOfficeFactory(code="bko-centre")


_minutes = iter(range(0, 10_000, 15))


def slot_of(office, hours: int = 2):
    start = REOPENS_AT + timedelta(hours=hours, minutes=next(_minutes))
    return SlotFactory(office=office, starts_at=start, ends_at=start + timedelta(minutes=15))


@pytest.fixture
def admitted(office, freeze):
    """An admission taken before the reopening, ten seconds after it."""
    freeze(REOPENS_AT - timedelta(days=8))
    existing = slot_of(office, hours=48)
    booked, token = services.booking_create(slot=existing, applicant=applicant())
    freeze(REOPENS_AT - timedelta(minutes=5))
    suspension = Suspension.objects.create(
        starts_at=REOPENS_AT - timedelta(days=7), reopens_at=REOPENS_AT, message="Suspendu."
    )
    suspension.offices.set([office])
    ticket = APIClient().post(f"/api/v1/waiting-room/{office.code}/").json()["ticket"]
    freeze(REOPENS_AT + timedelta(seconds=10))
    body = APIClient().get(f"/api/v1/waiting-room/{office.code}/{ticket}/").json()
    assert isinstance(body["admission"], str)
    return body["admission"], (booked, token)


def book(slot, admission, **fields):
    return APIClient().post(
        BOOKINGS,
        json.dumps(payload(slot, **fields)),
        content_type="application/json",
        HTTP_X_ADMISSION=admission,
    )


def test_an_admission_books_one_seat_not_five(office, admitted):
    admission, _existing = admitted
    assert book(slot_of(office), admission).status_code == 201

    for _other in range(4):
        assert_error(book(slot_of(office), admission), 403, "admission_used")

    assert Appointment.objects.filter(admission_ticket__isnull=False).count() == 1


def test_an_admission_serves_again_once_its_hold_has_ended(office, admitted, verify_on):
    admission, _existing = admitted
    hold = book(slot_of(office), admission).json()
    other = {"phone": "+22370000001", "email": "other@example.org"}  # not held already
    assert_error(book(slot_of(office), admission, **other), 403, "admission_used")

    move(Appointment.objects.filter(reference=hold["reference"]), "expired")

    assert book(slot_of(office), admission, **other).status_code == 201


def test_a_move_in_the_window_needs_an_admission(office, admitted):
    admission, (booked, token) = admitted
    target = slot_of(office)
    api = APIClient()

    refused = manage(api, "post", booked.reference, token, "reschedule/", slot=target.pk)
    assert_error(refused, 403, "admission_required")
    booked.refresh_from_db()
    assert booked.slot_id != target.pk

    moved = api.post(
        f"{BOOKINGS}{booked.reference}/reschedule/",
        {"slot": target.pk},
        format="json",
        HTTP_X_BOOKING_TOKEN=token,
        HTTP_X_ADMISSION=admission,
    )
    assert moved.status_code == 200, moved.content
