"""Contact verification (BOOKING_VERIFY_CONTACT): a booking holds its seat as `pending` until
the applicant enters the 6-digit code sent to them; three tries; unconfirmed holds lapse and
free their seat. A second booking with the same identity number answers exactly as a fresh
one, and its code goes to the contacts of the existing booking only."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, Slot
from appointments.schedules import SCHEDULES
from appointments.services.codes import hash_code
from appointments.tests.api_bookings import assert_error, book, manage
from appointments.tests.factories import SlotFactory, applicant, move, someone
from appointments.tests.verification import other_code, sent_code
from core.models import OutboxMessage
from epassport.celery import app as celery_app

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off", "verify_on")]


def confirm(api, reference: str, token: str | None, code: object):
    return manage(api, "post", reference, token, "confirm/", code=code)


def seats(slot: Slot) -> int:
    slot.refresh_from_db()
    return slot.booked


# The hold and its code ---------------------------------------------------------------------


def test_a_booking_holds_its_seat_as_pending_and_sends_a_code_by_sms_and_email(api, slot):
    before = timezone.now()
    response = book(api, slot, email="awa@example.org", phone="+223 70 00 00 01")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    held_until = datetime.fromisoformat(body["hold_expires_at"])
    assert body["hold_expires_at"].endswith("+00:00")  # Bamako's offset
    assert before + timedelta(minutes=15) <= held_until <= timezone.now() + timedelta(minutes=15)
    assert seats(slot) == 1  # the hold takes a real seat
    hold = Appointment.objects.get(reference=body["reference"])
    assert hold.status == Appointment.Status.PENDING

    messages = OutboxMessage.objects.filter(appointment_id=hold.pk)
    assert {(m.kind, m.channel, m.recipient) for m in messages} == {
        ("booking_code", "email", "awa@example.org"),
        ("booking_code", "sms", "+22370000001"),
    }
    code = sent_code(hold)
    assert len(code) == 6
    assert code.isdigit()
    # Only a keyed hash of the code is stored with the appointment.
    assert hold.code_hash == hash_code(reference=hold.reference, code=code)
    assert code not in hold.code_hash
    assert manage(api, "get", body["reference"], body["manage_token"]).json()["status"] == (
        "pending"
    )


def test_the_right_code_books_it_and_only_then_the_confirmation_is_sent(api, slot):
    body = book(api, slot).json()
    reference, token = body["reference"], body["manage_token"]
    code = sent_code(reference)
    assert not OutboxMessage.objects.filter(kind="booking_confirmed").exists()

    response = confirm(api, reference, token, f" {code[:3]} {code[3:]} ")  # spaces ignored

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "booked"
    assert response.json()["hold_expires_at"] is None
    assert manage(api, "get", reference, token).json()["status"] == "booked"
    assert seats(slot) == 1  # the same seat, kept
    confirmation = OutboxMessage.objects.get(kind="booking_confirmed", channel="email")
    assert confirmation.payload == {"manage_token": token}
    assert Appointment.objects.get(reference=reference).code_hash == ""
    # Sent again (a retry after a lost answer): the booking as it is, nothing more.
    assert confirm(api, reference, token, code).json()["status"] == "booked"
    assert OutboxMessage.objects.filter(kind="booking_confirmed").count() == 2


def test_a_wrong_code_is_wrong_code_and_the_third_releases_the_seat(api, slot):
    body = book(api, slot).json()
    reference, token = body["reference"], body["manage_token"]
    wrong = other_code(sent_code(reference))

    first = assert_error(confirm(api, reference, token, wrong), 400, "wrong_code")
    assert first["attempts_left"] == 2
    assert "2 essais" in first["detail"]
    assert (
        assert_error(confirm(api, reference, token, wrong), 400, "wrong_code")["attempts_left"]
        == 1
    )
    assert seats(slot) == 1
    last = assert_error(confirm(api, reference, token, wrong), 400, "wrong_code")
    assert last["attempts_left"] == 0
    assert "libérée" in last["detail"]

    assert seats(slot) == 0
    assert Appointment.objects.get(reference=reference).status == "expired"
    # Even the right code comes too late now.
    assert_error(confirm(api, reference, token, sent_code(reference)), 409, "hold_expired")


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "١٢٣٤٥٦", "", None, 12345, True])
def test_a_malformed_code_is_invalid_and_costs_no_try(api, slot, code):
    body = book(api, slot).json()
    response = confirm(api, body["reference"], body["manage_token"], code)
    assert_error(response, 400, "invalid")
    assert Appointment.objects.get(reference=body["reference"]).code_attempts == 0


def test_confirming_needs_the_manage_token(api, slot):
    body = book(api, slot).json()
    code = sent_code(body["reference"])
    assert_error(confirm(api, body["reference"], None, code), 404, "not_found")
    assert_error(confirm(api, body["reference"], "not-the-token", code), 404, "not_found")
    assert Appointment.objects.get(reference=body["reference"]).status == "pending"


def test_a_pending_booking_can_be_neither_moved_nor_cancelled(api, slot):
    body = book(api, slot).json()
    reference, token = body["reference"], body["manage_token"]
    assert_error(manage(api, "post", reference, token, "cancel/"), 409, "not_changeable")
    assert seats(slot) == 1


# Expiry -------------------------------------------------------------------------------------


def test_a_hold_not_confirmed_within_15_minutes_is_refused_and_frees_its_seat(api, slot, freeze):
    body = book(api, slot).json()
    code = sent_code(body["reference"])
    freeze(timezone.now() + timedelta(minutes=15, seconds=1))

    assert_error(confirm(api, body["reference"], body["manage_token"], code), 409, "hold_expired")
    assert seats(slot) == 0
    assert manage(api, "get", body["reference"], body["manage_token"]).json()["status"] == (
        "expired"
    )


def test_the_periodic_expiry_frees_the_lapsed_holds_and_only_those():
    slot = SlotFactory(capacity=3)
    now = timezone.now()
    early, _ = services.booking_create(slot=slot, applicant=someone(), now=now)
    late, _ = services.booking_create(
        slot=slot, applicant=someone(), now=now + timedelta(minutes=5)
    )
    confirmed, token = services.booking_create(slot=slot, applicant=someone(), now=now)
    services.booking_confirm(appointment=confirmed, code=sent_code(confirmed), token=token)
    assert seats(slot) == 3

    lapse = now + timedelta(minutes=15)
    assert services.holds_expire(now=lapse - timedelta(seconds=1)) == 0
    assert services.holds_expire(now=lapse) == 1
    assert services.holds_expire(now=lapse) == 0  # idempotent
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {early.pk: "expired", late.pk: "pending", confirmed.pk: "booked"}
    assert seats(slot) == 2
    assert services.holds_expire(now=lapse + timedelta(minutes=5), chunk=1) == 1
    assert seats(slot) == 1


def test_booking_a_slot_full_of_lapsed_holds_frees_them_in_the_statement_itself():
    slot = SlotFactory(capacity=2)
    now = timezone.now()
    lapsed = [services.booking_create(slot=slot, applicant=someone(), now=now)[0] for _ in "ab"]
    assert seats(slot) == 2
    with pytest.raises(services.SlotFull):
        services.booking_create(slot=slot, applicant=someone(), now=now + timedelta(minutes=1))

    later = now + timedelta(minutes=16)  # no periodic expiry has run
    newcomer, _ = services.booking_create(slot=slot, applicant=someone(), now=later)

    assert newcomer.status == "pending"
    assert set(
        Appointment.objects.filter(pk__in=[a.pk for a in lapsed]).values_list("status", flat=True)
    ) == {"expired"}
    assert seats(slot) == 1


def test_a_closure_releases_the_holds_of_the_slots_it_closes():
    slot = SlotFactory(capacity=2)
    hold, token = services.booking_create(slot=slot, applicant=applicant())
    local_day = slot.starts_at.astimezone(slot.office.timezone).date()
    services.closure_create(
        office=slot.office, start_date=local_day, end_date=local_day, reason="Fermé."
    )
    assert seats(slot) == 0
    hold.refresh_from_db()
    assert hold.status == "expired"
    with pytest.raises(services.HoldExpired):
        services.booking_confirm(appointment=hold, code=sent_code(hold), token=token)


# The identity number already booked -------------------------------------------------------


def test_the_same_identity_again_gets_the_answer_of_a_fresh_booking_and_no_code(api, slot):
    holder = book(api, slot, national_id="NINA77770001", email="awa@example.org").json()
    confirm(api, holder["reference"], holder["manage_token"], sent_code(holder["reference"]))
    other_slot = SlotFactory(office=slot.office)

    tout = book(
        api,
        other_slot,
        national_id="nina 7777-0001",
        email="tout@example.net",
        phone="+22399999999",
    )
    # (Another tout's: one pending hold per phone and mailbox.)
    fresh = book(api, other_slot, email="tout2@example.net", phone="+22399999998")

    # Same status, same fields, same kind of values: nothing tells them apart.
    assert tout.status_code == fresh.status_code == 201
    tout_body, fresh_body = tout.json(), fresh.json()
    assert set(tout_body) == set(fresh_body)
    assert tout_body["status"] == fresh_body["status"] == "pending"
    assert seats(other_slot) == 2
    # The code went to the contacts of the existing booking, never to the tout's.
    recipients = set(
        OutboxMessage.objects.filter(
            appointment_id=Appointment.objects.get(reference=tout_body["reference"]).pk
        ).values_list("channel", "recipient")
    )
    assert recipients == {("email", "awa@example.org"), ("sms", "+22376123456")}
    assert not OutboxMessage.objects.filter(
        appointment_id=Appointment.objects.get(reference=tout_body["reference"]).pk,
        recipient__contains="tout",
    ).exists()
    # Guessing is three tries out of a million, after which the seat is free again.
    for _try in range(3):
        assert_error(
            confirm(api, tout_body["reference"], tout_body["manage_token"], "000000"),
            400,
            "wrong_code",
        )
    assert Appointment.objects.get(reference=holder["reference"]).status == "booked"


def test_the_holder_confirming_the_code_replaces_the_old_booking(api, slot):
    first = book(api, slot, national_id="NINA77770002").json()
    confirm(api, first["reference"], first["manage_token"], sent_code(first["reference"]))
    later_slot = SlotFactory(office=slot.office, starts_at=slot.starts_at + timedelta(days=1))
    again = book(api, later_slot, national_id="NINA77770002", phone="+22370000002").json()

    response = confirm(
        api, again["reference"], again["manage_token"], sent_code(again["reference"])
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "booked"
    assert Appointment.objects.get(reference=first["reference"]).status == "cancelled"
    assert (seats(slot), seats(later_slot)) == (0, 1)
    references = dict(Appointment.objects.values_list("pk", "reference"))
    kinds = {
        (references[pk], kind)
        for pk, kind in OutboxMessage.objects.values_list("appointment_id", "kind")
    }
    assert (first["reference"], "booking_cancelled") in kinds
    assert (again["reference"], "booking_confirmed") in kinds


def test_a_hold_replacing_a_booking_already_checked_in_is_refused_when_confirmed(api, slot):
    first = book(api, slot, national_id="NINA77770003").json()
    confirm(api, first["reference"], first["manage_token"], sent_code(first["reference"]))
    move(Appointment.objects.filter(reference=first["reference"]), "checked_in")
    again = book(api, SlotFactory(office=slot.office), national_id="NINA77770003").json()

    response = confirm(
        api, again["reference"], again["manage_token"], sent_code(again["reference"])
    )

    assert_error(response, 409, "already_booked")  # told to the holder of the contacts only
    assert Appointment.objects.get(reference=first["reference"]).status == "checked_in"
    assert Appointment.objects.get(reference=again["reference"]).status == "expired"


def test_without_verification_a_booking_is_booked_at_once(api, slot, settings):
    settings.BOOKING_VERIFY_CONTACT = False
    body = book(api, slot).json()
    assert body["status"] == "booked"
    assert body["hold_expires_at"] is None
    assert set(OutboxMessage.objects.values_list("kind", flat=True)) == {"booking_confirmed"}


def test_the_booking_endpoint_documents_the_confirmation(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/bookings/{reference}/confirm/"]["post"]
    assert set(operation["responses"]) == {"200", "400", "404", "409", "429"}


def test_the_lapsed_holds_are_expired_every_minute_by_default():
    schedule = next(s for s in SCHEDULES if s.task == "appointments.holds_expire")
    assert schedule.every_seconds == 60
    celery_app.loader.import_default_modules()  # the apps' tasks, as a worker loads them
    assert schedule.task in celery_app.tasks
