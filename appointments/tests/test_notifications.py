"""Every event of an appointment writes one email and one SMS, keyed by the event, whatever
the door it comes through (API, pages, admin, suspension, the dispatcher's rebooking); the
same event written again adds nothing; an applicant's opt-out is respected in SQL."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from appointments import notifications, services
from appointments.models import Appointment
from appointments.tests.api_bookings import book as api_book
from appointments.tests.api_bookings import manage
from appointments.tests.factories import (
    SlotFactory,
    applicant,
    bamako_centre,
    book,
    member,
    paris_consulate,
    slot_at,
)
from core.models import OutboxMessage
from tests.support import log_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]


def told(appointment: Appointment, kind: str) -> list[tuple[str, str]]:
    """(channel, idempotency key) of the appointment's messages of this kind."""
    return sorted(
        OutboxMessage.objects.filter(appointment_id=appointment.pk, kind=kind).values_list(
            "channel", "idempotency_key"
        )
    )


def pair(key: str) -> list[tuple[str, str]]:
    return [("email", key), ("sms", key)]


# The key --------------------------------------------------------------------------------


def test_the_same_event_written_twice_is_one_message_per_channel():
    appointment, _token = book()
    key = notifications.appointment_key(appointment.pk, "cancelled")

    assert notifications.enqueue(appointment=appointment, kind="booking_cancelled", key=key) == 2
    assert notifications.enqueue(appointment=appointment, kind="booking_cancelled", key=key) == 0
    assert (
        notifications.enqueue(appointment=appointment.pk, kind="booking_cancelled", key=key) == 0
    )

    assert told(appointment, "booking_cancelled") == pair(key)


def test_the_database_refuses_a_second_message_with_the_same_key_and_channel():
    appointment, _token = book()
    confirmation = OutboxMessage.objects.get(appointment_id=appointment.pk, channel="email")

    with (
        pytest.raises(IntegrityError, match="outbox_idempotency_key_channel"),
        transaction.atomic(),
    ):
        OutboxMessage.objects.create(
            channel="email",
            kind="booking_confirmed",
            appointment_id=appointment.pk,
            recipient="other@example.org",
            idempotency_key=confirmation.idempotency_key,
        )
    # The same key on the other channel is the SMS of the same event: allowed once, taken.
    assert OutboxMessage.objects.filter(idempotency_key=confirmation.idempotency_key).count() == 2


def test_an_unknown_kind_is_refused():
    appointment, _token = book()
    with pytest.raises(ValueError, match="unknown notification kind"):
        notifications.enqueue(appointment=appointment, kind="booking_lost", key="x")


# Each door ------------------------------------------------------------------------------


def test_through_the_api_a_booking_its_move_and_its_cancellation_are_each_told_once(api):
    office = paris_consulate()
    first, second = slot_at(office, 9), slot_at(office, 10)
    body = api_book(api, first).json()
    reference, token = body["reference"], body["manage_token"]
    appointment = Appointment.objects.get(reference=reference)
    assert told(appointment, "booking_confirmed") == pair(
        f"appointment:{appointment.pk}:confirmed"
    )

    moves = [(first, second), (second, first), (first, second)]
    for number, (origin, target) in enumerate(moves, start=1):
        response = manage(api, "post", reference, token, "reschedule/", slot=target.pk)
        assert response.status_code == 200, response.content
        key = f"appointment:{appointment.pk}:moved:{origin.pk}:{target.pk}:{number}"
        assert set(pair(key)) <= set(told(appointment, "booking_rescheduled"))
    # Back and forth: three moves, three messages each way, none taken for another.
    assert len(told(appointment, "booking_rescheduled")) == 6

    assert manage(api, "post", reference, token, "cancel/").status_code == 200
    assert manage(api, "post", reference, token, "cancel/").status_code == 409
    assert told(appointment, "booking_cancelled") == pair(
        f"appointment:{appointment.pk}:cancelled"
    )


def test_the_booking_statement_writes_to_the_contacts_of_the_appointment_it_inserts(api):
    """epassport_outbox_enqueue reads the recipients of an appointment the calling statement
    has just inserted (it is VOLATILE: the statement's own snapshot would not see it)."""
    body = api_book(api, slot_at(paris_consulate(), 9)).json()
    appointment = Appointment.objects.get(reference=body["reference"])
    sent = OutboxMessage.objects.filter(appointment_id=appointment.pk, kind="booking_confirmed")
    assert sorted(sent.values_list("channel", "recipient", "language")) == [
        ("email", appointment.email, appointment.language),
        ("sms", appointment.phone, appointment.language),
    ]


def test_through_the_pages_a_booking_its_move_and_its_cancellation_are_each_told_once(client):
    office = paris_consulate()
    first, second = slot_at(office, 9), slot_at(office, 10)
    form = {
        "surname": "Traoré",
        "given_names": "Aminata",
        "birth_date": "1990-05-17",
        "national_id": "1234 5678 9012 A",
        "email": "aminata@example.org",
        "phone": "06 12 34 56 78",
        "language": "fr",
        "consent": "on",
    }
    response = client.post(f"/bureaux/{office.code}/creneau/{first.pk}/", form)
    reference = re.fullmatch(r"/rendez-vous/([A-Z0-9-]+)/[\w-]+/", response.url)[1]
    appointment = Appointment.objects.get(reference=reference)
    client.post(response.url + "deplacer/", {"slot": second.pk})
    client.post(response.url + "annuler/")

    assert told(appointment, "booking_confirmed") == pair(
        f"appointment:{appointment.pk}:confirmed"
    )
    assert told(appointment, "booking_rescheduled") == pair(
        f"appointment:{appointment.pk}:moved:{first.pk}:{second.pk}:1"
    )
    assert told(appointment, "booking_cancelled") == pair(
        f"appointment:{appointment.pk}:cancelled"
    )


def test_a_closure_made_in_the_admin_tells_each_displaced_applicant_once(client):
    office = paris_consulate()
    slot = slot_at(office, 9, days=3)
    appointment, _token = book(slot=slot)
    log_in(client, member("admin", username="minister", is_staff=True, is_superuser=True))
    day = slot.starts_at.astimezone(office.timezone).date().isoformat()

    response = client.post(
        "/admin/appointments/closure/add/",
        {"office": office.pk, "start_date": day, "end_date": day, "reason": "Fête"},
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.DISPLACED
    key = f"appointment:{appointment.pk}:displaced:{slot.pk}"
    assert told(appointment, "booking_displaced") == pair(key)


def test_a_suspension_displaces_and_the_dispatcher_rebooks_each_told_once(freeze):
    freeze("2025-11-10T08:00:00Z")
    office = bamako_centre()
    during = SlotFactory(office=office, starts_at=datetime(2025, 11, 20, 9, tzinfo=UTC))
    after = SlotFactory(office=office, starts_at=datetime(2025, 11, 24, 9, tzinfo=UTC))
    appointment = services.booking_create(slot=during, applicant=applicant())[0]
    reopening = datetime(2025, 11, 24, 7, 30, tzinfo=UTC)
    suspension = services.suspension_create(
        by=member("admin"),
        starts_at=datetime(2025, 11, 17, tzinfo=UTC),
        reopens_at=reopening,
        office_codes=[office.code],
        message_fr="Suspendu.",
    )
    # Moving the reopening applies the suspension again: the displaced are not told twice.
    services.suspension_update(
        suspension=suspension, by=member("admin"), reopens_at=reopening + timedelta(minutes=1)
    )
    displaced = pair(f"appointment:{appointment.pk}:displaced:{during.pk}")
    assert told(appointment, "booking_displaced") == displaced

    freeze(reopening + timedelta(minutes=5))
    assert services.displaced_rebook() == 1
    assert services.displaced_rebook() == 0

    rebooked = pair(f"appointment:{appointment.pk}:rebooked:{after.pk}")
    assert told(appointment, "booking_rebooked") == rebooked
    assert told(appointment, "booking_displaced") == displaced


# Opt-out --------------------------------------------------------------------------------


def test_a_channel_turned_off_gets_no_message_and_the_other_still_does():
    appointment, _token = book()
    services.booking_notifications_set(appointment=appointment, sms=False)
    services.booking_cancel(appointment=appointment)

    assert [c for c, _k in told(appointment, "booking_cancelled")] == ["email"]

    other, _token = book()
    services.booking_notifications_set(appointment=other, email=False)
    notifications.enqueue(appointment=other, kind="booking_reminder", key="k")
    message = OutboxMessage.objects.get(appointment_id=other.pk, kind="booking_reminder")
    assert (message.channel, message.recipient, message.language) == ("sms", other.phone, "fr")


# The migration --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_messages_a_unique_key_of_their_own():
    slot = SlotFactory()  # with today's models, before the schema goes back
    executor = MigrationExecutor(connection)
    executor.migrate([("appointments", "0005_slot_reserved")])
    try:
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO appointments_appointment (reference, office_id, slot_id, status,"
                " surname, given_names, birth_date, national_id, email, phone, language,"
                " manage_token_hash, created_at, updated_at) VALUES ('AAAA-BBBB', %s, %s,"
                " 'booked', 'DIALLO', 'Awa', '1990-01-01', 'NINA1', 'awa@example.org',"
                " '+22376000000', 'fr', '', %s, %s) RETURNING id",
                [slot.office_id, slot.pk, now, now],
            )
            (appointment_id,) = cursor.fetchone()
            for channel in ("email", "sms", "email"):
                cursor.execute(
                    "INSERT INTO appointments_outboxmessage (channel, kind, appointment_id,"
                    " recipient, language, payload, status, attempts, next_attempt_at,"
                    " last_error, created_at) VALUES (%s, 'booking_confirmed', %s, 'x', 'fr',"
                    " '{}', 'sent', 0, %s, '', %s)",
                    [channel, appointment_id, now, now],
                )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    keys = dict(OutboxMessage.objects.values_list("pk", "idempotency_key"))
    assert keys == {pk: f"legacy:{pk}" for pk in keys}
    assert len(keys) == 3
    appointment = Appointment.objects.get(pk=appointment_id)
    assert (appointment.notify_email, appointment.notify_sms) == (True, True)
