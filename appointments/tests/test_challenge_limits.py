"""The proof-of-work challenge is bound to its use: made for one booking, valid two minutes,
accepted once; and an address gets only so many of them (BOOKING_CHALLENGE_RATE)."""

from datetime import timedelta

import pytest
from altcha import v1 as altcha
from django.utils import timezone

from appointments import protection
from appointments.models import Appointment
from appointments.protection import ChallengeFailed
from appointments.tests.api_bookings import assert_error, book
from appointments.tests.challenges import solve

CHALLENGE = "/api/v1/challenge/"


def signed_challenge(**params) -> dict:
    """A challenge signed with the portal's own key, with these parameters."""
    made = altcha.create_challenge(
        hmac_key=protection._hmac_key(),
        max_number=100,
        expires=timezone.now() + timedelta(minutes=1),
        params=params or None,
    ).to_dict()
    made["maxnumber"] = made.pop("maxNumber")
    return made


@pytest.mark.django_db
def test_a_challenge_made_for_another_use_is_refused(challenge_on):
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(solve(signed_challenge(use="tracking")))
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(solve(signed_challenge()))  # no use named
    protection.challenge_verify(solve(signed_challenge(use="booking")))


@pytest.mark.django_db
def test_a_challenge_lives_two_minutes(challenge_on, freeze):
    early, late = solve(protection.challenge_create()), solve(protection.challenge_create())
    freeze(timezone.now() + timedelta(minutes=1, seconds=50))
    protection.challenge_verify(early)
    freeze(timezone.now() + timedelta(seconds=15))
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(late)


@pytest.mark.django_db
def test_one_solved_challenge_books_once(api, slot, challenge_on, settings):
    settings.RATE_LIMITS = False
    payload = solve(protection.challenge_create())
    assert book(api, slot, altcha=payload).status_code == 201
    assert_error(book(api, slot, altcha=payload), 400, "challenge_failed")
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_challenges_per_address_are_limited_apart_from_availability(
    api, challenge_on, settings, freeze
):
    settings.RATE_LIMITS = True
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.BOOKING_CHALLENGE_RATE = "3/m"
    settings.AVAILABILITY_RATE = "100/m"
    freeze(timezone.now())  # one rate limit window for the whole test

    answers = [api.get(CHALLENGE, REMOTE_ADDR="198.51.100.7").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert_error(api.get(CHALLENGE, REMOTE_ADDR="198.51.100.7"), 429, "rate_limited")
    assert api.get(CHALLENGE, REMOTE_ADDR="198.51.100.8").status_code == 200  # another address
    assert api.get("/api/v1/offices/", REMOTE_ADDR="198.51.100.7").status_code == 200


@pytest.mark.django_db
def test_a_solution_refused_for_a_full_slot_serves_for_the_next_try(api, challenge_on, settings):
    # A person on a slow phone solves once per seat taken, not once per refusal: a booking
    # refused (here the slot is full) leaves its solution unused; the booking made uses it up.
    from appointments import services
    from appointments.tests.factories import SlotFactory, applicant

    settings.RATE_LIMITS = False
    full = SlotFactory(capacity=1)
    services.booking_create(slot=full, applicant=applicant())
    free = SlotFactory(office=full.office, starts_at=full.starts_at + timedelta(days=1))
    solution = solve(protection.challenge_create())

    assert_error(book(api, full, altcha=solution), 409, "slot_full")
    assert book(api, free, altcha=solution).status_code == 201
    assert_error(book(api, free, altcha=solution), 400, "challenge_failed")
    assert Appointment.objects.filter(slot=free).count() == 1
