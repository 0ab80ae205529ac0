"""Helpers shared by the tests of the waiting room's seats (test_waiting_room_seats.py,
test_waiting_room_grace.py): slots at an office, the reopening, places taken and looked at
through the service, bookings made with an admission, and the clock moved on as another
process would see it."""

from datetime import UTC, datetime, timedelta

from django.core import signing

from appointments import services, waiting_room
from appointments.models import Slot, Suspension
from appointments.tests.factories import SlotFactory, someone

REOPENS_AT = datetime(2025, 11, 24, 7, 30, tzinfo=UTC)
GRACE = 120


def seats_at(office, *capacities: int) -> list[Slot]:
    """Slots of these capacities at the office, the days after the reopening."""
    slots = []
    for day, capacity in enumerate(capacities, start=1):
        start = REOPENS_AT + timedelta(days=day)
        slots.append(
            SlotFactory(
                office=office,
                starts_at=start,
                ends_at=start + timedelta(minutes=15),
                capacity=capacity,
            )
        )
    return slots


def reopening(office, freeze) -> Suspension:
    freeze(REOPENS_AT - timedelta(minutes=10))
    suspension = Suspension.objects.create(
        starts_at=REOPENS_AT - timedelta(days=7), reopens_at=REOPENS_AT, message="Suspendu."
    )
    suspension.offices.set([office])
    return suspension


def take(office, n: int, *, first: int = 0) -> list[waiting_room.Place]:
    """n places, each from a network (and address) of its own."""
    return [
        waiting_room.ticket_issue(
            office_id=office.pk, network=f"10.{i // 256}.{i % 256}.0/24", address=f"10.0.{i}.1"
        )
        for i in range(first, first + n)
    ]


def look(office, place: waiting_room.Place) -> waiting_room.Place:
    return waiting_room.place_of(credential=place.ticket, office_id=office.pk)


def ticket_id(place: waiting_room.Place) -> int:
    return signing.Signer(salt=waiting_room.TICKET_SALT).unsign_object(place.ticket)["t"]


def admitted_at(place: waiting_room.Place) -> datetime:
    data = signing.Signer(salt=waiting_room.ADMISSION_SALT).unsign_object(place.admission)
    return datetime.fromtimestamp(data["a"], tz=UTC)


def book(slot, place, **applicant):
    return services.booking_create(
        slot=slot, applicant=someone(**applicant), admission_ticket=ticket_id(place)
    )


def later(seconds: float, freeze) -> None:
    freeze(REOPENS_AT + timedelta(seconds=seconds))
    waiting_room.forget_draws()  # another process, or this one a second later
