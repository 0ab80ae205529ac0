"""The database itself refuses what the booking services refuse: whatever writes the row
(a bug, the shell, a future code path), a slot never holds more than its seats."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from appointments import notifications, services
from appointments.models import Appointment
from appointments.tests.factories import OfficeFactory, SlotFactory, applicant, move
from core.models import OutboxMessage

pytestmark = pytest.mark.django_db


def raw_appointment(slot, *, office=None, national_id="ID000001", status="booked"):
    return Appointment.objects.create(
        reference=services.new_reference(),
        office=office or slot.office,
        slot=slot,
        status=status,
        surname="TRAORÉ",
        given_names="Awa",
        birth_date=date(1990, 1, 1),
        national_id=national_id,
        email="awa@example.org",
        phone="+22376123456",
        manage_token_hash="0" * 64,
    )


def test_an_insert_past_the_capacity_is_refused_and_the_count_stays_right():
    slot = SlotFactory(capacity=2)
    raw_appointment(slot, national_id="ID000001")
    raw_appointment(slot, national_id="ID000002")
    with pytest.raises(IntegrityError, match="slot_within_capacity"), transaction.atomic():
        raw_appointment(slot, national_id="ID000003")
    slot.refresh_from_db()
    assert slot.booked == 2


def test_displacing_frees_the_seat_and_rebooking_a_displaced_one_needs_a_seat():
    slot = SlotFactory(capacity=1)
    first = raw_appointment(slot, national_id="ID000001")
    move(Appointment.objects.filter(pk=first.pk), "displaced")
    slot.refresh_from_db()
    assert slot.booked == 0
    raw_appointment(slot, national_id="ID000002")
    with pytest.raises(IntegrityError, match="slot_within_capacity"), transaction.atomic():
        move(Appointment.objects.filter(pk=first.pk), "booked")


def test_deleting_an_appointment_frees_its_seat():
    slot = SlotFactory(capacity=1)
    raw_appointment(slot).delete()
    slot.refresh_from_db()
    assert slot.booked == 0


def test_deleting_an_appointment_deletes_its_messages_and_a_message_needs_an_appointment():
    # The outbox is core's and names the appointment by id only: the database's foreign key
    # (appointments migration 0020) deletes the messages with their appointment.
    appointment = raw_appointment(SlotFactory(capacity=1))
    notifications.enqueue(
        appointment=appointment, kind="booking_confirmed", key=f"appointment:{appointment.pk}:x"
    )
    assert OutboxMessage.objects.filter(appointment_id=appointment.pk).count() == 2
    kept = OutboxMessage.objects.create(
        channel="email", kind="file_ready", recipient="a@example.org", idempotency_key="other"
    )

    deleted = appointment.pk
    appointment.delete()

    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [kept.pk]
    refused = pytest.raises(IntegrityError, match="outbox_appointment_fk")
    with refused, transaction.atomic():
        OutboxMessage.objects.create(
            channel="email",
            kind="file_ready",
            appointment_id=deleted,
            recipient="a@example.org",
            idempotency_key="orphan",
        )
        connection.check_constraints()  # the key is checked at commit (deferred)


def test_an_appointment_in_a_slot_of_another_office_is_refused():
    slot = SlotFactory()
    with pytest.raises(IntegrityError, match="appointment_slot_of_office"), transaction.atomic():
        raw_appointment(slot, office=OfficeFactory())


def test_two_active_appointments_for_one_identity_are_refused():
    slot = SlotFactory(capacity=5)
    raw_appointment(slot, national_id="ID000001")
    refused = pytest.raises(IntegrityError, match="appointment_one_active_per_identity")
    with refused, transaction.atomic():
        raw_appointment(slot, national_id="ID000001")
    # A cancelled or enrolled one does not count.
    raw_appointment(slot, national_id="ID000002", status="cancelled")
    raw_appointment(slot, national_id="ID000002")


def test_the_service_maps_each_refusal_to_its_code():
    slot = SlotFactory(capacity=1)
    person = applicant()
    services.booking_create(slot=slot, applicant=person)
    other = SlotFactory(office=slot.office, capacity=3)
    with pytest.raises(services.AlreadyBooked):
        services.booking_create(slot=other, applicant=person)
    slot.refresh_from_db()
    with pytest.raises(services.SlotFull):
        services.booking_create(slot=slot, applicant=applicant())
