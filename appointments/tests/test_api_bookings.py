"""POST /api/v1/bookings/: every status and code of the contract, the anti-bot challenge,
the rate limit, and no 500 whatever the input."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, Slot, Suspension
from appointments.tests.api_bookings import (
    BOOKINGS,
    assert_error,
    book,
    payload,
)
from appointments.tests.challenges import solution_number, solve
from appointments.tests.factories import (
    OfficeFactory,
    SlotFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]


# Booking ---------------------------------------------------------------------------------


def test_a_booking_is_made_and_answered_with_its_reference_and_token(api):
    paris = OfficeFactory(code="paris-consulat", timezone=ZoneInfo("Europe/Paris"))
    start = (timezone.now() + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    slot = SlotFactory(office=paris, starts_at=start, capacity=2)

    response = book(api, slot, surname="  traoré  keïta ", phone="+33 6 12 34 56 78")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "reference",
        "manage_token",
        "status",
        "hold_expires_at",
        "office",
        "starts_at",
    }
    assert body["status"] == "booked"
    assert body["hold_expires_at"] is None
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


@pytest.mark.parametrize("altcha_value", [None, "", "garbage", 42])
def test_a_missing_or_malformed_solution_is_refused(api, slot, challenge_on, altcha_value):
    data = payload(slot)
    if altcha_value is not None:
        data["altcha"] = altcha_value
    assert_error(api.post(BOOKINGS, data, format="json"), 400, "challenge_failed")
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize("altcha_value", [{"number": 1}, ["x"], "A" * 100_000])
def test_a_solution_that_is_not_text_is_an_invalid_field(api, slot, challenge_on, altcha_value):
    # The fields are checked before the proof of work (a request refused for its fields has
    # not used up its challenge): a solution that is not even text, or far longer than any
    # solution, is one of them.
    response = api.post(BOOKINGS, {**payload(slot), "altcha": altcha_value}, format="json")
    body = assert_error(response, 400, "invalid")
    assert "altcha" in body["fields"]
    assert Appointment.objects.count() == 0


def test_with_the_challenge_on_a_list_body_is_refused_not_a_500(api, challenge_on):
    response = api.post(BOOKINGS, [1, 2], format="json")
    assert_error(response, 400, "invalid")


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


@pytest.mark.parametrize("verify", [False, True])
def test_the_answer_built_by_hand_is_the_serializers(verify):
    # The booking answer is built without the serializer (a rush answers thousands): it must
    # stay exactly what the serializer, which is the documented schema, would give.
    from appointments.api.serializers import BookingCreatedSerializer, booking_created_body
    from appointments.tests.factories import applicant

    paris = OfficeFactory(code="paris-consulat", timezone=ZoneInfo("Europe/Paris"))
    appointment, token = services.booking_create(
        slot=SlotFactory(office=paris), applicant=applicant(), verify=verify
    )
    context = {"timezone": paris.timezone, "manage_token": token}

    by_hand = booking_created_body(appointment, manage_token=token)

    assert by_hand == dict(BookingCreatedSerializer(appointment, context=context).data)
    assert (by_hand["hold_expires_at"] is None) == (not verify)
