"""SMS only where the portal serves: a phone number is accepted, and an SMS sent, only in the
countries of SMS_ALLOWED_COUNTRIES (by default those of the active offices). Another
country's number gets a form error (the HTML form and the API's 400 on `phone`), the
booking with an allowed number and the same email goes through, and the sender refuses an
SMS to a number outside those countries without sending it."""

import pytest
from django.core.exceptions import ValidationError

from appointments import validation
from appointments.models import Appointment
from appointments.tests.api_bookings import BOOKINGS, assert_error, payload
from appointments.tests.api_bookings import book as api_book
from appointments.tests.factories import OfficeFactory, bamako_centre, book, slot_at
from core import sms
from core.models import OutboxMessage
from core.outbox import delivery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]

FORM = {
    "surname": "Traoré",
    "given_names": "Aminata",
    "birth_date": "1990-05-17",
    "national_id": "NINA12345678",
    "email": "aminata@example.org",
    "phone": "+49 1512 3456789",  # Germany
    "language": "fr",
    "consent": "on",
}
REFUSED = "Les SMS ne partent que vers les numéros de ces pays : France, Mali."


@pytest.fixture
def mali_and_france(settings):
    settings.SMS_ALLOWED_COUNTRIES = ["ML", "FR"]


@pytest.fixture
def from_offices(settings):
    """The default: the countries of the active offices, computed afresh."""
    settings.SMS_ALLOWED_COUNTRIES = []
    sms.offices_changed()
    yield
    sms.offices_changed()


# The forms ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("mali_and_france")
def test_the_booking_form_refuses_a_number_of_another_country_on_the_phone_field(client):
    office = bamako_centre()
    slot = slot_at(office, 9)
    url = f"/bureaux/{office.code}/creneau/{slot.pk}/"

    response = client.post(url, FORM)

    assert response.status_code == 400
    assert response.context["form"].errors["phone"] == [
        f"{REFUSED} Saisissez un numéro de l’un d’eux ; tous les messages vous parviennent "
        "aussi par e-mail."
    ]
    assert not Appointment.objects.exists()
    # The same applicant and email with a number of a served country: booked.
    assert client.post(url, {**FORM, "phone": "+33 6 12 34 56 78"}).status_code == 302
    assert Appointment.objects.get().email == "aminata@example.org"


@pytest.mark.usefixtures("mali_and_france")
def test_the_api_answers_invalid_with_the_message_on_phone(api):
    slot = slot_at(bamako_centre(), 9)

    body = assert_error(api_book(api, slot, phone="+1 876 210 1234"), 400, "invalid")

    assert set(body["fields"]) == {"phone"}
    assert body["fields"]["phone"][0].startswith(REFUSED)
    english = api.post(
        BOOKINGS, payload(slot, phone="+1 876 210 1234"), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert english.json()["fields"]["phone"] == [
        "Text messages go only to numbers of these countries: France, Mali. Enter a number of "
        "one of them; every message also reaches you by email."
    ]
    assert api_book(api, slot, phone="76 12 34 56").status_code == 201  # read as Malian


@pytest.mark.usefixtures("mali_and_france")
def test_the_check_is_the_country_of_the_number_not_of_its_calling_code(settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US"]
    assert validation.clean_phone("+1 202 555 0143") == "+12025550143"
    for other in ("+1 876 210 1234", "+1 613 555 0123"):  # Jamaica, Canada: also +1
        with pytest.raises(ValidationError) as refused:
            validation.clean_phone(other)
        assert refused.value.code == "sms_country"
    assert not sms.sms_allowed("")
    assert not sms.sms_allowed("not a number")


# The default: the offices' countries --------------------------------------------------------


@pytest.mark.usefixtures("from_offices")
def test_by_default_the_countries_are_those_of_the_active_offices(django_assert_num_queries):
    bamako_centre()
    OfficeFactory(code="dakar", country="SN")
    OfficeFactory(code="abidjan", country="CI", active=False)

    assert sms.sms_countries() == {"ML", "SN"}
    with django_assert_num_queries(0):  # kept by the process: no query per booking
        assert sms.sms_allowed("+221771234567")
        assert not sms.sms_allowed("+2250123456789")
        assert not sms.sms_allowed("+33612345678")

    # An office changed by this process is seen at once (others, within a minute).
    OfficeFactory(code="paris-consulat", country="FR")
    assert sms.sms_allowed("+33612345678")


def test_the_setting_is_checked_at_start_up():
    from django.core.exceptions import ImproperlyConfigured

    from epassport.settings.notifications import _check_countries

    assert _check_countries(["ML", "FR"]) == ["ML", "FR"]
    with pytest.raises(ImproperlyConfigured, match="XX"):
        _check_countries(["ML", "XX"])


# The sender ---------------------------------------------------------------------------------


def test_the_sender_refuses_an_sms_outside_the_allowed_countries_and_sends_the_email(
    settings, recorded
):
    appointment, _token = book(phone="+4915123456789")  # written before the rule, or around it
    sms = OutboxMessage.objects.get(appointment_id=appointment.pk, channel="sms")
    email = OutboxMessage.objects.get(appointment_id=appointment.pk, channel="email")
    assert sms.payload["manage_token"]

    assert delivery.outbox_deliver(message_id=sms.pk) is False
    assert delivery.outbox_deliver(message_id=email.pk) is True

    assert recorded == []
    sms.refresh_from_db()
    assert sms.status == OutboxMessage.Status.FAILED
    assert sms.last_error == delivery.SMS_COUNTRY_REFUSED
    assert sms.attempts == 1
    assert sms.claimed_until is None
    assert "manage_token" not in sms.payload  # abandoned: its secret goes
    # Not tried again by the sweep; an SMS to a served number goes.
    book(phone="+22376123456")
    assert delivery.outbox_sweep() == 2
    assert [to for to, _text in recorded] == ["+22376123456"]
