"""Appointments a suspension displaced: seats held back for them after the reopening, and
their rebooking into the first free seats, in order, once, never overbooking."""

from datetime import UTC, datetime, timedelta

import pytest

from appointments import services
from appointments.errors import SlotFull
from appointments.models import Appointment, Slot
from appointments.tests.factories import SlotFactory, applicant, bamako_centre, member
from core.models import OutboxMessage
from core.outbox import kinds as outbox_messages
from tests.support import run_together

pytestmark = pytest.mark.django_db

MONDAY = datetime(2025, 11, 24, 7, 30, tzinfo=UTC)  # the reopening (Bamako is UTC)


def _slots(office, day: datetime, hours, capacity=2):
    return [
        SlotFactory(office=office, starts_at=day.replace(hour=h, minute=0), capacity=capacity)
        for h in hours
    ]


@pytest.fixture
def reopening(freeze):
    """Bamako: four appointments booked during the suspension, which is then declared from
    the 17th to Monday the 24th at 07:30; free slots after it."""
    freeze("2025-11-10T08:00:00Z")
    office = bamako_centre()
    during = _slots(office, datetime(2025, 11, 20, tzinfo=UTC), [8, 9], capacity=2)
    booked = [
        services.booking_create(slot=slot, applicant=applicant())[0]
        for slot in during
        for _seat in range(2)
    ]
    after = _slots(office, MONDAY, [8, 9, 10, 11], capacity=2)
    suspension = services.suspension_create(
        by=member("admin"),
        starts_at=datetime(2025, 11, 17, tzinfo=UTC),
        reopens_at=MONDAY,
        office_codes=[office.code],
        message_fr="Suspendu.",
    )
    return office, booked, after, suspension


def test_half_the_seats_after_the_reopening_are_held_back_for_the_displaced(reopening):
    _office, booked, after, _suspension = reopening
    assert {a.status for a in Appointment.objects.filter(pk__in=[a.pk for a in booked])} == {
        "displaced"
    }
    held = [Slot.objects.get(pk=slot.pk).reserved for slot in after]
    assert held == [1, 1, 1, 1]  # half of each day's seats, spread over the day
    # A new applicant cannot take a seat held back...
    full = after[0]
    services.booking_create(slot=full, applicant=applicant(), now=MONDAY)
    with pytest.raises(SlotFull):
        services.booking_create(slot=full, applicant=applicant(), now=MONDAY)
    # ...but a displaced applicant moving their appointment can.
    token_owner = booked[0]
    moved = services.booking_reschedule(appointment=token_owner, slot=full, now=MONDAY)
    assert (moved.status, moved.slot_id) == ("booked", full.pk)


def test_after_the_reopening_the_displaced_are_rebooked_in_order_once(reopening, freeze):
    _office, booked, after, _suspension = reopening
    freeze(MONDAY - timedelta(seconds=1))
    assert services.displaced_rebook() == 0  # still suspended: nothing moves

    freeze(MONDAY + timedelta(seconds=5))
    assert services.displaced_rebook() == 4
    rebooked = {a.pk: a for a in Appointment.objects.filter(pk__in=[a.pk for a in booked])}
    assert {a.status for a in rebooked.values()} == {"booked"}
    # In the order of their original times, into the first free seats (08:00 x2, 09:00 x2).
    assert [rebooked[a.pk].slot_id for a in booked] == [after[0].pk] * 2 + [after[1].pk] * 2
    for slot in Slot.objects.filter(pk__in=[s.pk for s in after]):
        assert slot.booked <= slot.capacity
        assert slot.reserved == 0  # nobody left to rebook: the seats are everyone's again
    # Each applicant gets a new manage link, by email and SMS.
    messages = OutboxMessage.objects.filter(kind="booking_rebooked")
    assert messages.count() == 8
    token = (
        messages.filter(appointment_id=booked[0].pk, channel="email").get().payload["manage_token"]
    )
    assert services.booking_for_token(reference=booked[0].reference, token=token).pk == (
        booked[0].pk
    )
    assert services.displaced_rebook() == 0  # never twice

    # The email says what happened, with the new link and the new convocation.
    email = outbox_messages.render_email(
        messages.filter(appointment_id=booked[0].pk, channel="email").get()
    )
    assert email.subject == f"Passeport Premium : rendez-vous {booked[0].reference} reprogrammé"
    assert "reprogrammé au premier horaire libre" in email.body
    assert token in email.body
    assert [name for name, _content, _type in email.attachments] == [
        f"{booked[0].reference}.ics",
        f"convocation-{booked[0].reference}.pdf",
    ]
    sms = outbox_messages.sms_text(
        messages.filter(appointment_id=booked[0].pk, channel="sms").get()
    )
    assert "le service a rouvert" in sms
    assert token in sms


def test_an_applicant_who_booked_again_meanwhile_is_left_as_they_are(reopening, freeze):
    _office, booked, after, _suspension = reopening
    again = booked[0]
    freeze(MONDAY + timedelta(seconds=5))
    services.booking_create(slot=after[3], applicant=applicant(national_id=again.national_id))
    assert services.displaced_rebook() == 3
    assert Appointment.objects.get(pk=again.pk).status == "displaced"


@pytest.mark.django_db(transaction=True)
def test_two_rebooking_runs_at_once_rebook_each_once_and_never_overbook(freeze):
    freeze("2025-11-10T08:00:00Z")
    office = bamako_centre()
    during = _slots(office, datetime(2025, 11, 20, tzinfo=UTC), range(8, 13), capacity=4)
    displaced = [
        services.booking_create(slot=slot, applicant=applicant())[0]
        for slot in during
        for _seat in range(4)
    ]
    after = _slots(office, MONDAY, range(8, 18), capacity=3)
    services.suspension_create(
        by=member("admin"),
        starts_at=datetime(2025, 11, 17, tzinfo=UTC),
        reopens_at=MONDAY,
        office_codes=None,
        message_fr="Suspendu.",
    )
    later = MONDAY + timedelta(minutes=1)

    results = run_together([lambda: services.displaced_rebook(now=later) for _ in range(3)])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == len(displaced) == 20
    assert not Appointment.objects.filter(status="displaced").exists()
    for slot in Slot.objects.filter(pk__in=[s.pk for s in after]):
        held = Appointment.objects.filter(slot=slot, status="booked").count()
        assert held == slot.booked <= slot.capacity
    assert OutboxMessage.objects.filter(kind="booking_rebooked").count() == 40
