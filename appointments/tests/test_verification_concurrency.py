"""A hold ends once: a confirmation racing an expiry (the periodic task, the booking statement
of the same slot, the last wrong code) never loses nor doubles a seat. Real threads against
the real PostgreSQL, each on its own connection."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from appointments import services
from appointments.errors import AlreadyBooked, HoldExpired, SlotFull, TooManyHolds, WrongCode
from appointments.models import Appointment, Slot
from appointments.tests.factories import SlotFactory, applicant, someone
from appointments.tests.verification import other_code, sent_code
from tests.support import run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("verify_on")]

ROUNDS = 12


def outcome(result) -> str:
    if isinstance(result, SlotFull | HoldExpired | WrongCode | AlreadyBooked | TooManyHolds):
        return result.code
    if isinstance(result, Exception):
        return f"unexpected {result!r}"
    if isinstance(result, int):
        return f"expired {result}"
    if isinstance(result, tuple):  # booking_create
        return result[0].status
    return result.status


def assert_seats_counted(slot: Slot) -> int:
    """The slot's counter equals its seat-holding appointments, within its capacity."""
    slot.refresh_from_db()
    holding = Appointment.objects.filter(slot=slot, status__in=Appointment.SEAT_HOLDING).count()
    assert slot.booked == holding <= slot.capacity
    return holding


def test_a_confirmation_racing_the_periodic_expiry_ends_the_hold_once():
    slot = SlotFactory(capacity=ROUNDS)
    seen = Counter()
    for _round in range(ROUNDS):
        booked_at = timezone.now()
        hold, token = services.booking_create(slot=slot, applicant=applicant(), now=booked_at)
        code = sent_code(hold)
        lapse = booked_at + timedelta(minutes=15)
        # Each side's clock lets it act: the confirmation a second before the lapse, the
        # expiry a second after. Only the database decides which one ends the hold.
        confirm = lambda h=hold, c=code, t=token, at=lapse: services.booking_confirm(  # noqa: E731
            appointment=h, code=c, token=t, now=at - timedelta(seconds=1)
        )
        expire = lambda at=lapse: services.holds_expire(now=at + timedelta(seconds=1))  # noqa: E731
        confirmed, expired = run_together([confirm, expire])

        hold.refresh_from_db()
        pair = (outcome(confirmed), outcome(expired))
        assert pair in {("booked", "expired 0"), ("hold_expired", "expired 1")}, pair
        assert hold.status == ("booked" if pair[0] == "booked" else "expired")
        seen[pair[0]] += 1
    assert assert_seats_counted(slot) == seen["booked"]


def test_a_confirmation_racing_a_booking_of_the_last_seat_gives_it_to_one_of_them():
    seen = Counter()
    for _round in range(ROUNDS):
        slot = SlotFactory(capacity=1)
        booked_at = timezone.now()
        hold, token = services.booking_create(slot=slot, applicant=applicant(), now=booked_at)
        code = sent_code(hold)
        lapse = booked_at + timedelta(minutes=15)

        def confirm(h=hold, c=code, t=token, at=lapse):
            return services.booking_confirm(
                appointment=h, code=c, token=t, now=at - timedelta(seconds=1)
            )

        def book(s=slot, at=lapse):
            fresh = Slot.objects.select_related("office").get(pk=s.pk)
            return services.booking_create(
                slot=fresh, applicant=someone(), now=at + timedelta(seconds=1)
            )

        pair = tuple(outcome(r) for r in run_together([confirm, book]))

        # The hold confirmed and the newcomer refused, or the hold freed by the booking
        # statement and its seat taken by the newcomer: one seat, one holder, either way.
        assert pair in {("booked", "slot_full"), ("hold_expired", "pending")}, pair
        assert assert_seats_counted(slot) == 1
        seen[pair] += 1
    assert sum(seen.values()) == ROUNDS


def test_wrong_codes_sent_at_once_each_count_and_the_seat_is_freed_once():
    slot = SlotFactory(capacity=2)
    hold, token = services.booking_create(slot=slot, applicant=applicant())
    wrong = other_code(sent_code(hold))

    def attempt():
        return services.booking_confirm(appointment=hold, code=wrong, token=token)

    results = run_together([attempt] * 6)

    assert Counter(outcome(r) for r in results) == {"wrong_code": 3, "hold_expired": 3}
    assert sorted(r.extra["attempts_left"] for r in results if isinstance(r, WrongCode)) == [
        0,
        1,
        2,
    ]
    hold.refresh_from_db()
    assert (hold.status, hold.code_attempts) == ("expired", 3)
    assert assert_seats_counted(slot) == 0


def test_two_holds_of_one_identity_made_at_once_hold_one_seat():
    # One pending hold per identity number, by a unique index: two requests at once cannot
    # both hold a seat (nor draw two codes against the same person's booking).
    slots = [SlotFactory(capacity=2) for _ in range(2)]
    person = applicant()
    books = [
        lambda s=slot, n=n: services.booking_create(
            slot=s, applicant=someone(national_id=person.national_id)
        )
        for n, slot in enumerate(slots)
    ]

    results = run_together(books)

    assert sorted(outcome(r) for r in results) == ["pending", "too_many_holds"]
    refused = next(r for r in results if isinstance(r, TooManyHolds))
    assert 0 < refused.extra["retry_after"] <= 15 * 60 + 1
    statuses = Appointment.objects.filter(national_id=person.national_id).values_list(
        "status", flat=True
    )
    assert list(statuses) == ["pending"]
    assert sum(assert_seats_counted(slot) for slot in slots) == 1
