"""Nobody ever gets a seat that does not exist: real threads against the real PostgreSQL."""

from collections import Counter

import pytest

from appointments import services
from appointments.errors import AlreadyBooked, SlotFull
from appointments.models import Appointment, Slot
from appointments.tests.factories import SlotFactory, applicant
from tests.support import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def outcome(result) -> str:
    if isinstance(result, SlotFull | AlreadyBooked):
        return result.code
    if isinstance(result, Exception):
        return f"unexpected {result!r}"
    return "booked"


def test_fifty_threads_booking_one_slot_of_capacity_three():
    slot = SlotFactory(capacity=3)

    def book():
        fresh = Slot.objects.select_related("office").get(pk=slot.pk)
        return services.booking_create(slot=fresh, applicant=applicant())

    results = run_together([book] * 50)
    assert Counter(outcome(r) for r in results) == {"booked": 3, "slot_full": 47}
    slot.refresh_from_db()
    assert slot.booked == 3
    assert Appointment.objects.filter(slot=slot, status="booked").count() == 3


def test_the_same_identity_booking_twice_at_once_gets_one_appointment():
    slots = [SlotFactory(capacity=5) for _ in range(2)]
    person = applicant()

    def book(slot_id):
        fresh = Slot.objects.select_related("office").get(pk=slot_id)
        return services.booking_create(slot=fresh, applicant=person)

    results = run_together([lambda s=s: book(s.pk) for s in slots] * 4)
    assert Counter(outcome(r) for r in results) == {"booked": 1, "already_booked": 7}
    assert Appointment.objects.filter(national_id=person.national_id).count() == 1
    assert (
        sum(Slot.objects.filter(pk__in=[s.pk for s in slots]).values_list("booked", flat=True))
        == 1
    )


def test_two_reschedules_racing_for_the_last_seat():
    office_slot = SlotFactory(capacity=2)
    target = SlotFactory(office=office_slot.office, capacity=1)
    first, _ = services.booking_create(slot=office_slot, applicant=applicant())
    second, _ = services.booking_create(slot=office_slot, applicant=applicant())

    def move(appointment):
        fresh_target = Slot.objects.select_related("office").get(pk=target.pk)
        return services.booking_reschedule(appointment=appointment, slot=fresh_target)

    results = run_together([lambda: move(first), lambda: move(second)])
    assert sorted(outcome(r) for r in results) == ["booked", "slot_full"]
    target.refresh_from_db()
    office_slot.refresh_from_db()
    assert target.booked == 1
    assert office_slot.booked == 1  # the loser keeps its seat; the winner freed its own
    assert Appointment.objects.filter(slot=target).count() == 1


def test_reschedules_crossing_each_others_slots_do_not_deadlock():
    a = SlotFactory(capacity=2)
    b = SlotFactory(office=a.office, capacity=2)
    on_a, _ = services.booking_create(slot=a, applicant=applicant())
    on_b, _ = services.booking_create(slot=b, applicant=applicant())
    results = run_together(
        [
            lambda: services.booking_reschedule(appointment=on_a, slot=b),
            lambda: services.booking_reschedule(appointment=on_b, slot=a),
        ]
        * 1
    )
    assert [outcome(r) for r in results] == ["booked", "booked"]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.booked, b.booked) == (1, 1)


def test_cancel_and_book_racing_for_a_full_slot():
    slot = SlotFactory(capacity=1)
    holder, _ = services.booking_create(slot=slot, applicant=applicant())

    def book():
        fresh = Slot.objects.select_related("office").get(pk=slot.pk)
        return services.booking_create(slot=fresh, applicant=applicant())

    results = run_together([lambda: services.booking_cancel(appointment=holder), book])
    assert outcome(results[0]) == "booked"  # the cancellation went through
    slot.refresh_from_db()
    active = Appointment.objects.filter(slot=slot, status__in=Appointment.SEAT_HOLDING).count()
    assert slot.booked == active <= 1
    # Whichever order the database chose, the seat is either taken by the newcomer or free.
    assert outcome(results[1]) in {"booked", "slot_full"}
    if outcome(results[1]) == "slot_full":
        assert slot.booked == 0
