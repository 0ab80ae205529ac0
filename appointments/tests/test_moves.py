"""An applicant moves their booking at most MAX_MOVES times: a booking moved from day to day
keeps a seat from everybody (a tout holding seats for sale does exactly that)."""

import pytest

from appointments import services
from appointments.models import Appointment
from appointments.tests.api_bookings import assert_error, manage
from appointments.tests.factories import SlotFactory, applicant, displace

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]


def test_a_booking_moves_max_moves_times_then_no_more(api, slot, booking, settings):
    settings.MAX_MOVES = 3
    reference, token = booking
    targets = [SlotFactory(office=slot.office) for _ in range(4)]
    for target in targets[:3]:
        moved = manage(api, "post", reference, token, "reschedule/", slot=target.pk)
        assert moved.status_code == 200

    refused = manage(api, "post", reference, token, "reschedule/", slot=targets[3].pk)

    assert_error(refused, 409, "too_many_moves")
    appointment = Appointment.objects.get(reference=reference)
    assert (appointment.slot_id, appointment.moves) == (targets[2].pk, 3)
    # Cancelling stays possible.
    assert manage(api, "post", reference, token, "cancel/").status_code == 200


def test_finding_a_time_for_a_displaced_booking_is_not_a_move(slot, settings):
    settings.MAX_MOVES = 1
    appointment, _token = services.booking_create(slot=slot, applicant=applicant())
    appointment = services.booking_reschedule(
        appointment=appointment, slot=SlotFactory(office=slot.office)
    )
    displace(appointment)
    appointment.refresh_from_db()

    moved = services.booking_reschedule(
        appointment=appointment, slot=SlotFactory(office=slot.office)
    )

    assert (moved.status, moved.moves) == ("booked", 1)
