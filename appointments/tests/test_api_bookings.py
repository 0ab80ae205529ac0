"""POST /api/v1/bookings/ and the management of a booking by its token: every status and
code of the contract, and no 500 whatever the input."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions

from appointments import services
from appointments.errors import NotChangeable
from appointments.models import Appointment, Slot, Suspension
from appointments.tests.challenges import solution_number, solve
from appointments.tests.factories import (
    CentreOfficeFactory,
    OfficeFactory,
    SlotFactory,
    applicant,
    paris_consulate,
)
from epassport.api import exception_handler
from epassport.errors import DomainError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]

BOOKINGS = "/api/v1/bookings/"


@pytest.fixture
def slot():
    return SlotFactory(office=CentreOfficeFactory(code="bko-centre"), capacity=3)


_numbers = iter(range(10_000_000, 99_999_999))


def payload(slot, /, **overrides) -> dict:
    values = {
        "slot": slot.pk,
        "surname": "Traoré",
        "given_names": "Aminata",
        "birth_date": "1990-05-17",
        "national_id": f"NINA{next(_numbers)}",
        "email": "Aminata.Traore@Example.org",
        "phone": "+223 76 12 34 56",
        "language": "fr",
    }
    values.update(overrides)
    return values


def book(api, slot, /, **overrides):
    # json.dumps escapes what is not ASCII, so that even a lone surrogate can be sent.
    body = json.dumps(payload(slot, **overrides))
    return api.post(BOOKINGS, body, content_type="application/json")


def manage(api, method: str, reference: str, token: str | None, suffix: str = "", **data):
    headers = {} if token is None else {"HTTP_X_BOOKING_TOKEN": token}
    url = f"{BOOKINGS}{reference}/{suffix}"
    if method == "get":
        return api.get(url, **headers)
    return api.post(url, data, format="json", **headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


# Booking ---------------------------------------------------------------------------------


def test_a_booking_is_made_and_answered_with_its_reference_and_token(api):
    paris = OfficeFactory(code="paris-consulat", timezone=ZoneInfo("Europe/Paris"))
    start = (timezone.now() + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    slot = SlotFactory(office=paris, starts_at=start, capacity=2)

    response = book(api, slot, surname="  traoré  keïta ", phone="+33 6 12 34 56 78")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"reference", "manage_token", "status", "office", "starts_at"}
    assert body["status"] == "booked"
    assert body["office"] == "paris-consulat"
    assert body["starts_at"] == start.astimezone(ZoneInfo("Europe/Paris")).isoformat()
    assert body["starts_at"][-6:] in ("+01:00", "+02:00")
    assert "no-store" in response["Cache-Control"]
    appointment = Appointment.objects.get(reference=body["reference"])
    assert appointment.surname == "TRAORÉ KEÏTA"
    assert appointment.email == "aminata.traore@example.org"
    assert appointment.phone == "+33612345678"
    assert appointment.manage_token_hash == services.hash_token(body["manage_token"])
    slot.refresh_from_db()
    assert slot.booked == 1


def test_a_national_phone_number_is_read_in_the_office_country(api, slot):
    response = book(api, slot, phone="76 12 34 56")
    assert response.status_code == 201
    assert Appointment.objects.get().phone == "+22376123456"


def test_the_language_defaults_to_the_request_language(api, slot):
    data = payload(slot)
    del data["language"]
    response = api.post(BOOKINGS, data, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201
    assert Appointment.objects.get().language == "en"


def test_a_full_slot_answers_slot_full_with_the_next_free_slots(api):
    new_york = OfficeFactory(code="new-york", country="US", timezone=ZoneInfo("America/New_York"))
    start = timezone.now() + timedelta(days=2)
    full = SlotFactory(office=new_york, starts_at=start, capacity=1)
    after = SlotFactory(office=new_york, starts_at=start + timedelta(hours=1), capacity=2)
    assert book(api, full, phone="+1 202 555 0143").status_code == 201

    body = assert_error(book(api, full, phone="+1 202 555 0143"), 409, "slot_full")

    local = ZoneInfo("America/New_York")
    assert body["next_free"] == [
        {
            "id": after.pk,
            "starts_at": after.starts_at.astimezone(local).isoformat(),
            "ends_at": after.ends_at.astimezone(local).isoformat(),
            "remaining": 2,
        }
    ]
    assert body["next_free"][0]["starts_at"][-6:] in ("-05:00", "-04:00")


def test_the_same_identity_twice_answers_already_booked(api, slot):
    other = SlotFactory(office=slot.office)
    assert book(api, slot, national_id="NINA12345678").status_code == 201
    assert_error(book(api, other, national_id="nina 1234-5678"), 409, "already_booked")


def test_a_suspension_answers_booking_closed_with_its_reopening(api, slot):
    reopens = timezone.now() + timedelta(days=5)
    Suspension.objects.create(
        starts_at=timezone.now() - timedelta(hours=1), reopens_at=reopens, message="Suspendu."
    )
    body = assert_error(book(api, slot), 409, "booking_closed")
    assert datetime.fromisoformat(body["reopens_at"]) == reopens
    assert body["detail"] == "Suspendu."


def test_booking_closed_without_a_planned_reopening_has_a_null_reopens_at(api, slot):
    Suspension.objects.create(starts_at=timezone.now() - timedelta(hours=1), message="Suspendu.")
    body = assert_error(book(api, slot), 409, "booking_closed")
    assert body["reopens_at"] is None


def test_a_closed_slot_answers_booking_closed(api, slot):
    Slot.objects.filter(pk=slot.pk).update(is_open=False)
    body = assert_error(book(api, slot), 409, "booking_closed")
    assert body["reopens_at"] is None


def test_a_past_slot_answers_slot_past(api):
    past = SlotFactory(starts_at=timezone.now() - timedelta(hours=2))
    assert_error(book(api, past, phone="+33612345678"), 409, "slot_past")


def test_an_unknown_slot_is_invalid_on_the_slot_field(api, slot):
    body = assert_error(book(api, slot, slot=slot.pk + 1000), 400, "invalid")
    assert set(body["fields"]) == {"slot"}


def test_error_details_are_in_french_by_default(api, slot):
    french = book(api, slot, slot=slot.pk + 1000)
    assert french.json()["detail"] == "Certaines données sont invalides."
    assert french.json()["fields"]["slot"] == ["Ce créneau n’existe pas."]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slot": "abc"}, "slot"),
        ({"slot": 10**30}, "slot"),
        ({"slot": -1}, "slot"),
        ({"slot": None}, "slot"),
        ({"slot": [1]}, "slot"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "1800-01-01"}, "birth_date"),
        ({"birth_date": "17/05/1990"}, "birth_date"),
        ({"phone": "123"}, "phone"),
        ({"phone": "+989601"}, "phone"),  # valid for phonenumbers, too short for E.164 check
        ({"phone": "+" + "9" * 29}, "phone"),
        ({"surname": "x" * 10_000}, "surname"),
        ({"surname": "ß" * 100}, "surname"),  # 200 letters once upper-cased
        ({"surname": "   "}, "surname"),
        ({"surname": "A\x00B"}, "surname"),
        ({"surname": "A\ud800B"}, "surname"),
        ({"surname": {"nested": True}}, "surname"),
        ({"given_names": "y" * 151}, "given_names"),
        ({"national_id": "<script>"}, "national_id"),
        ({"national_id": "1" * 10_000}, "national_id"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@" + "b" * 300 + ".org"}, "email"),
        ({"language": "de"}, "language"),
        ({"language": None}, "language"),
    ],
)
def test_bad_inputs_are_invalid_never_a_500(api, slot, overrides, field):
    body = assert_error(book(api, slot, **overrides), 400, "invalid")
    assert field in body["fields"]
    assert Appointment.objects.count() == 0


def test_missing_fields_are_listed(api):
    body = assert_error(api.post(BOOKINGS, {}, format="json"), 400, "invalid")
    assert set(body["fields"]) >= {
        "slot",
        "surname",
        "given_names",
        "birth_date",
        "national_id",
        "email",
        "phone",
    }


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"slot": 1,}',
        b"",
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
        b'"text"',
        b"NaN",
        b"null",
        b"[" * 100_000,  # deeper than Python's recursion limit
        b'{"slot": ' + b"9" * 5_000 + b"}",  # more digits than int() accepts
        b'{"slot": 1e999999}',
    ],
)
def test_malformed_bodies_are_invalid_never_a_500(api, raw):
    response = api.post(BOOKINGS, raw, content_type="application/json")
    assert_error(response, 400, "invalid")


def test_a_body_that_is_not_json_answers_415(api, slot):
    response = api.post(BOOKINGS, "slot=1", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_a_wrong_method_answers_405(api):
    assert_error(api.get(BOOKINGS), 405, "method_not_allowed")
    assert_error(api.delete("/api/v1/offices/"), 405, "method_not_allowed")


# Challenge -------------------------------------------------------------------------------


def solved(api, *, wrong: bool = False) -> str:
    challenge = api.get("/api/v1/challenge/").json()
    return solve(challenge, number=solution_number(challenge) + 1 if wrong else None)


def test_the_challenge_endpoint_gives_an_altcha_challenge(api, challenge_on):
    response = api.get("/api/v1/challenge/")
    assert response.status_code == 200
    assert set(response.json()) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    assert response.json()["maxnumber"] == 2_000
    assert "no-store" in response["Cache-Control"]


def test_a_solved_challenge_books_once_and_is_refused_on_replay(api, slot, challenge_on):
    solution = solved(api)
    assert book(api, slot, altcha=solution).status_code == 201
    assert_error(book(api, slot, altcha=solution), 400, "challenge_failed")
    assert Appointment.objects.count() == 1


def test_a_wrong_solution_is_refused(api, slot, challenge_on):
    assert_error(book(api, slot, altcha=solved(api, wrong=True)), 400, "challenge_failed")
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize("altcha_value", [None, "", "garbage", 42, {"number": 1}, ["x"]])
def test_a_missing_or_malformed_solution_is_refused(api, slot, challenge_on, altcha_value):
    data = payload(slot)
    if altcha_value is not None:
        data["altcha"] = altcha_value
    assert_error(api.post(BOOKINGS, data, format="json"), 400, "challenge_failed")


def test_with_the_challenge_on_a_list_body_is_refused_not_a_500(api, challenge_on):
    response = api.post(BOOKINGS, [1, 2], format="json")
    assert_error(response, 400, "challenge_failed")


# Rate limit ------------------------------------------------------------------------------


def test_the_fourth_booking_request_in_a_minute_from_one_address_is_rate_limited(
    api, slot, settings, freeze
):
    freeze(timezone.now())  # one rate limit window for the whole test
    settings.RATE_LIMITS = settings.RATELIMIT_ENABLE = True
    settings.BOOKING_RATE = "3/m"
    slot = SlotFactory(office=slot.office, capacity=10)

    def from_address(address: str):
        return api.post(BOOKINGS, payload(slot), format="json", REMOTE_ADDR=address)

    statuses = [from_address("198.51.100.7").status_code for _ in range(3)]
    assert statuses == [201, 201, 201]
    assert_error(from_address("198.51.100.7"), 429, "rate_limited")
    assert from_address("198.51.100.8").status_code == 201
    assert Appointment.objects.count() == 4


# Managing a booking ------------------------------------------------------------------------


@pytest.fixture
def booking(api, slot):
    body = book(api, slot).json()
    return body["reference"], body["manage_token"]


def test_a_booking_is_read_with_its_token(api, slot, booking):
    reference, token = booking
    response = manage(api, "get", reference, token)
    assert response.status_code == 200
    assert response.json() == {
        "reference": reference,
        "status": "booked",
        "office": "bko-centre",
        "starts_at": slot.starts_at.astimezone(ZoneInfo("Africa/Bamako")).isoformat(),
        "ends_at": slot.ends_at.astimezone(ZoneInfo("Africa/Bamako")).isoformat(),
        "surname": "TRAORÉ",
        "given_names": "Aminata",
    }
    assert "no-store" in response["Cache-Control"]
    # Typed in lower case or without its hyphen, it is the same reference.
    assert manage(api, "get", reference.replace("-", "").lower(), token).status_code == 200


def test_a_wrong_missing_or_other_token_is_not_found(api, slot, booking):
    reference, token = booking
    other = book(api, slot).json()
    for attempt in (
        manage(api, "get", reference, "wrong-token"),
        manage(api, "get", reference, None),
        manage(api, "get", reference, ""),
        manage(api, "get", reference, other["manage_token"]),
        manage(api, "get", "ACDE-FGHJ", token),
        manage(api, "get", "not a reference at all " * 50, token),
    ):
        body = assert_error(attempt, 404, "not_found")
        assert body["detail"] == "Rendez-vous introuvable."


def test_cancel_frees_the_seat(api, slot, booking):
    reference, token = booking
    slot.refresh_from_db()
    assert slot.booked == 1
    response = manage(api, "post", reference, token, "cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["reference"] == reference
    slot.refresh_from_db()
    assert slot.booked == 0
    assert_error(manage(api, "post", reference, token, "cancel/"), 409, "not_changeable")


def test_cancel_with_a_wrong_or_other_token_changes_nothing(api, slot, booking):
    reference, _token = booking
    other = book(api, slot).json()
    for token in ("wrong", None, other["manage_token"]):
        assert_error(manage(api, "post", reference, token, "cancel/"), 404, "not_found")
    assert Appointment.objects.get(reference=reference).status == "booked"
    slot.refresh_from_db()
    assert slot.booked == 2


def assert_not_moved(reference: str, slot: Slot, target: Slot) -> None:
    """A refused move leaves the appointment and both seats where they were."""
    assert Appointment.objects.get(reference=reference).slot_id == slot.pk
    slot.refresh_from_db()
    target.refresh_from_db()
    assert (slot.booked, target.booked) == (1, 0)


def test_reschedule_moves_the_seat(api, slot, booking):
    reference, token = booking
    target = SlotFactory(office=slot.office, capacity=2)
    response = manage(api, "post", reference, token, "reschedule/", slot=target.pk)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "booked"
    assert body["starts_at"] == target.starts_at.astimezone(ZoneInfo("Africa/Bamako")).isoformat()
    slot.refresh_from_db()
    target.refresh_from_db()
    assert (slot.booked, target.booked) == (0, 1)
    assert Appointment.objects.get(reference=reference).slot_id == target.pk


def test_reschedule_to_a_full_slot_answers_slot_full(api, slot, booking):
    reference, token = booking
    full = SlotFactory(office=slot.office, capacity=1)
    services.booking_create(slot=full, applicant=applicant())
    later = SlotFactory(office=slot.office, capacity=2)  # free, after the full one
    body = assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=full.pk), 409, "slot_full"
    )
    assert isinstance(body["next_free"], list)
    assert [s["id"] for s in body["next_free"]] == [later.pk]
    assert all(set(s) == {"id", "starts_at", "ends_at", "remaining"} for s in body["next_free"])
    slot.refresh_from_db()
    assert slot.booked == 1


def test_reschedule_to_a_past_slot_answers_slot_past(api, slot, booking):
    reference, token = booking
    past = SlotFactory(office=slot.office, starts_at=timezone.now() - timedelta(days=1))
    assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=past.pk), 409, "slot_past"
    )
    assert_not_moved(reference, slot, past)


def test_reschedule_into_a_suspension_answers_booking_closed(api, slot, booking):
    reference, token = booking
    later = SlotFactory(office=slot.office, starts_at=slot.starts_at + timedelta(days=10))
    Suspension.objects.create(
        starts_at=later.starts_at - timedelta(hours=1),
        reopens_at=later.starts_at + timedelta(days=1),
        message="Fermé ce jour-là.",
    )
    body = assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=later.pk), 409, "booking_closed"
    )
    assert body["reopens_at"] is not None
    assert_not_moved(reference, slot, later)


def test_a_cancelled_booking_cannot_be_rescheduled(api, slot, booking):
    reference, token = booking
    manage(api, "post", reference, token, "cancel/")
    target = SlotFactory(office=slot.office)
    assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=target.pk), 409, "not_changeable"
    )
    appointment = Appointment.objects.get(reference=reference)
    assert (appointment.status, appointment.slot_id) == ("cancelled", slot.pk)
    target.refresh_from_db()
    assert target.booked == 0


@pytest.mark.parametrize("value", ["abc", None, 10**30])
def test_reschedule_with_a_bad_slot_is_invalid(api, booking, value):
    reference, token = booking
    body = assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=value), 400, "invalid"
    )
    assert set(body["fields"]) == {"slot"}


def test_reschedule_to_another_office_slot_is_invalid(api, slot, booking):
    reference, token = booking
    elsewhere = SlotFactory(office=OfficeFactory(code="paris-consulat"))
    body = assert_error(
        manage(api, "post", reference, token, "reschedule/", slot=elsewhere.pk), 400, "invalid"
    )
    assert set(body["fields"]) == {"slot"}
    slot.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (slot.booked, elsewhere.booked) == (1, 0)


def test_reschedule_with_a_wrong_token_is_not_found_before_anything_else(api, slot, booking):
    reference, _token = booking
    target = SlotFactory(office=slot.office)
    assert_error(
        manage(api, "post", reference, "wrong", "reschedule/", slot=target.pk), 404, "not_found"
    )
    assert_error(
        manage(api, "post", reference, "wrong", "reschedule/", slot="abc"), 404, "not_found"
    )
    target.refresh_from_db()
    assert target.booked == 0


def test_times_in_the_answers_use_the_office_offset_in_summer(api, freeze):
    freeze("2026-03-01T12:00:00Z")
    slot = SlotFactory(office=paris_consulate(), starts_at=datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    created = book(api, slot, phone="+33612345678").json()
    assert created["starts_at"] == "2026-03-30T09:00:00+02:00"
    read = manage(api, "get", created["reference"], created["manage_token"]).json()
    assert (read["starts_at"], read["ends_at"]) == (
        "2026-03-30T09:00:00+02:00",
        "2026-03-30T09:15:00+02:00",
    )


def test_details_follow_the_request_language(api):
    french = assert_error(api.get(BOOKINGS), 405, "method_not_allowed")
    english = assert_error(api.get(BOOKINGS, HTTP_ACCEPT_LANGUAGE="en"), 405, "method_not_allowed")
    assert french["detail"] == "Méthode «\xa0GET\xa0» non autorisée."
    assert english["detail"] == 'Method "GET" not allowed.'


def test_an_office_code_that_is_not_a_slug_is_a_json_not_found(api):
    response = api.get("/api/v1/offices/Paris Consulat/slots/?from=2026-01-01&to=2026-01-02")
    assert_error(response, 404, "not_found")


# The exception handler ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
        (DjangoPermissionDenied(), 403, "permission_denied"),
        (exceptions.NotFound(), 404, "not_found"),
        (Http404("nothing"), 404, "not_found"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (exceptions.NotAcceptable(), 406, "not_acceptable"),
        (exceptions.UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
        (exceptions.Throttled(wait=30), 429, "rate_limited"),
        (exceptions.ParseError("JSON parse error - line 1"), 400, "invalid"),
        (exceptions.ValidationError({"slot": ["bad"]}), 400, "invalid"),
        (DomainError("Refusé."), 400, "error"),
        (NotChangeable(), 409, "not_changeable"),
    ],
)
def test_every_error_has_its_status_code_and_detail(error, status, code):
    response = exception_handler(error, {})
    assert response.status_code == status
    assert response.data["code"] == code
    assert isinstance(response.data["detail"], str)
    assert response.data["detail"]


def test_the_handler_keeps_retry_after_and_field_messages():
    throttled = exception_handler(exceptions.Throttled(wait=30), {})
    assert throttled["Retry-After"] == "30"
    errors = exception_handler(exceptions.ValidationError({"slot": ["Créneau inconnu."]}), {})
    assert errors.data["fields"] == {"slot": ["Créneau inconnu."]}
    loose = exception_handler(exceptions.ValidationError("Tout est faux."), {})
    assert loose.data["fields"] == {"non_field_errors": ["Tout est faux."]}
    parse = exception_handler(exceptions.ParseError("JSON parse error - line 1"), {})
    assert parse.data["detail"] == "Requête malformée."


def test_the_handler_leaves_unknown_exceptions_to_django():
    assert exception_handler(RuntimeError("bug"), {}) is None
