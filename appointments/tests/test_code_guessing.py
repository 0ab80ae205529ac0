"""Guessing a booking's code is bounded per identity number: a tout making hold after hold
with somebody's number, each allowing a few tries at the code sent to the booking's holder,
is refused once CODE_FAILURES_PER_NINA wrong codes were entered in a day; the holder is told
once; their booking stays theirs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment, HoldNetwork
from appointments.tests.api_bookings import assert_error, book, manage
from appointments.tests.factories import SlotFactory
from appointments.tests.verification import other_code, sent_code
from core.models import OutboxMessage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verify_on", "protection_off")]

NINA = "NINA42420001"
_touts = iter(range(1_000, 9_999))


def confirm(api, body, code):
    return manage(api, "post", body["reference"], body["manage_token"], "confirm/", code=code)


@pytest.fixture
def holder(api, slot):
    body = book(api, slot, national_id=NINA, email="awa@example.org").json()
    assert confirm(api, body, sent_code(body["reference"])).status_code == 200
    return Appointment.objects.get(reference=body["reference"])


def tout_hold(api, office):
    n = next(_touts)
    return book(
        api,
        SlotFactory(office=office),
        national_id=NINA,
        phone=f"+2237099{n:04d}",
        email=f"tout{n}@example.net",
    )


def guess_wrong(api, body, times: int) -> None:
    code = sent_code(body["reference"])
    for _try in range(times):
        assert confirm(api, body, other_code(code)).status_code == 400


def guessing_messages(holder) -> int:
    return OutboxMessage.objects.filter(appointment_id=holder.pk, kind="booking_guessing").count()


def test_past_the_bound_a_hold_that_would_replace_a_booking_is_refused(api, holder, settings):
    settings.CODE_FAILURES_PER_NINA = 5
    guess_wrong(api, tout_hold(api, holder.office).json(), 3)  # its last try frees the seat
    guess_wrong(api, tout_hold(api, holder.office).json(), 2)
    # (that hold still waits for its code: it has lapsed by the next attempt)
    Appointment.objects.filter(status="pending").update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    messages = OutboxMessage.objects.count()
    codes = OutboxMessage.objects.filter(kind="booking_code").count()
    held = {n.network: n.held for n in HoldNetwork.objects.all()}

    refused = tout_hold(api, holder.office)

    assert_error(refused, 429, "too_many_code_failures")
    assert int(refused["Retry-After"]) > 0
    holder.refresh_from_db()
    assert holder.status == "booked"
    # The holder is told (email and SMS), and nothing else is queued: no code.
    assert guessing_messages(holder) == 2
    assert OutboxMessage.objects.count() == messages + 2
    assert OutboxMessage.objects.filter(kind="booking_code").count() == codes
    # No hold was made (the lapsed ones stay until the sweep expires them), nor a place of
    # the tout's network taken.
    assert {n.network: n.held for n in HoldNetwork.objects.all()} == held
    assert not Appointment.objects.filter(
        status="pending", hold_expires_at__gt=timezone.now()
    ).exists()

    # Told once, however many more attempts follow.
    assert_error(tout_hold(api, holder.office), 429, "too_many_code_failures")
    assert guessing_messages(holder) == 2


def test_below_the_bound_the_holder_can_still_replace_their_booking(api, holder, settings):
    settings.CODE_FAILURES_PER_NINA = 5
    guess_wrong(api, tout_hold(api, holder.office).json(), 3)
    assert tout_hold(api, holder.office).status_code == 201


def test_the_bound_is_a_rolling_day(api, holder, settings, freeze):
    settings.CODE_FAILURES_PER_NINA = 3
    guess_wrong(api, tout_hold(api, holder.office).json(), 3)
    assert_error(tout_hold(api, holder.office), 429, "too_many_code_failures")

    freeze(timezone.now() + timedelta(days=1, minutes=1))

    assert tout_hold(api, holder.office).status_code == 201


def test_a_number_without_booking_is_not_refused_for_its_wrong_codes(api, slot, settings):
    # Nothing to take over: the code goes to whoever made the hold, and a refusal would only
    # tell a stranger that the number holds a booking.
    settings.CODE_FAILURES_PER_NINA = 3
    guess_wrong(api, tout_hold(api, slot.office).json(), 3)
    assert tout_hold(api, slot.office).status_code == 201
