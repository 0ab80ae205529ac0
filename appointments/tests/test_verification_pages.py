"""Contact verification in the applicant's pages: after the booking form, a page asks for the
code; the manage page shows a pending booking and an expired one; the messages that carry
the code, through a real SMTP server and the SMS provider, leave no code behind."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from appointments import services
from appointments.models import Appointment
from appointments.tests.factories import applicant, paris_consulate, slot_at
from appointments.tests.verification import code_message, other_code, sent_code
from core.models import OutboxMessage
from core.outbox import delivery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off", "verify_on")]

FORM = {
    "surname": "Traoré",
    "given_names": "Aminata",
    "birth_date": "1990-05-17",
    "national_id": "1234 5678 9012 A",
    "email": "aminata@example.org",
    "phone": "06 12 34 56 78",
    "language": "fr",
    "consent": "on",
}


@pytest.fixture
def paris():
    return paris_consulate()


def book_through_the_form(client, paris, hour=9, **changes) -> tuple[Appointment, str]:
    slot = slot_at(paris, hour)
    response = client.post(f"/bureaux/{paris.code}/creneau/{slot.pk}/", {**FORM, **changes})
    assert response.status_code == 302
    match = re.fullmatch(
        r"/rendez-vous/([A-Z0-9]{4}-[A-Z0-9]{4})/([\w-]+)/confirmer/", response.url
    )
    assert match, response.url
    return Appointment.objects.get(reference=match[1]), response.url


def test_the_booking_form_leads_to_the_code_and_the_code_to_the_booking(client, paris):
    appointment, confirm_url = book_through_the_form(client, paris)
    assert appointment.status == "pending"

    page = client.get(confirm_url).content.decode()
    assert "Confirmez votre rendez-vous" in page
    assert "Europe/Paris" in page  # the hold's end, in the office's time
    assert 'autocomplete="one-time-code"' in page

    wrong = client.post(confirm_url, {"code": other_code(sent_code(appointment))})
    assert wrong.status_code == 400
    assert "Il vous reste 2 essais." in wrong.content.decode()

    right = client.post(confirm_url, {"code": sent_code(appointment)})
    assert right.status_code == 302
    manage_url = confirm_url.removesuffix("confirmer/")
    assert right.url == manage_url
    page = client.get(manage_url).content.decode()
    assert "Votre rendez-vous est confirmé." in page
    assert f"{manage_url}convocation.pdf" in page
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    # Nothing left to confirm: the code page now leads to the manage page.
    assert client.get(confirm_url).url == manage_url


def test_the_manage_page_of_a_pending_booking_asks_for_the_code(client, paris):
    _appointment, confirm_url = book_through_the_form(client, paris)
    page = client.get(confirm_url.removesuffix("confirmer/")).content.decode()
    assert "pas encore confirmé" in page
    assert f'href="{confirm_url}"' in page
    assert "convocation.pdf" not in page
    assert "Annuler le rendez-vous" not in page


def test_a_hold_left_too_long_says_the_seat_was_freed(client, paris, freeze):
    appointment, confirm_url = book_through_the_form(client, paris)
    freeze(timezone.now() + timedelta(minutes=16))
    response = client.post(confirm_url, {"code": sent_code(appointment)})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Le délai pour saisir le code est dépassé" in page
    assert "la place a été libérée" in page
    assert f'href="/bureaux/{paris.code}/"' in page


def test_an_expired_hold_has_no_convocation_nor_calendar_entry(client, paris, freeze):
    appointment, confirm_url = book_through_the_form(client, paris)
    freeze(timezone.now() + timedelta(minutes=16))
    services.holds_expire()
    appointment.refresh_from_db()
    assert appointment.status == "expired"
    manage_url = confirm_url.removesuffix("confirmer/")
    for document in ["convocation.pdf", "calendrier.ics"]:
        response = client.get(manage_url + document)
        assert response.status_code == 410, document
        assert response["Content-Type"].startswith("text/html")
        page = response.content.decode()
        assert 'data-code="expired"' in page
        assert "ne réserve plus de place" in page


def test_three_wrong_codes_in_the_page_free_the_seat(client, paris):
    appointment, confirm_url = book_through_the_form(client, paris)
    wrong = other_code(sent_code(appointment))
    client.post(confirm_url, {"code": wrong})
    client.post(confirm_url, {"code": wrong})
    last = client.post(confirm_url, {"code": wrong})
    assert last.status_code == 302
    assert "dernier essai" in client.get(last.url).content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "expired"
    assert appointment.slot.booked == 0


def test_a_second_form_with_the_same_identity_looks_like_the_first(client, paris):
    first, _url = book_through_the_form(client, paris, hour=9)
    services.booking_confirm(appointment=first, code=sent_code(first), token="t")
    second, url = book_through_the_form(client, paris, hour=10, email="other@example.net")
    assert second.status == "pending"
    assert "lien reçu par e-mail" not in client.get(url).content.decode()
    assert code_message(second, "email").recipient == "aminata@example.org"


def test_the_code_is_sent_by_email_and_sms_and_then_leaves_the_database(paris, inbox, recorded):
    slot = slot_at(paris, 9)
    hold, _token = services.booking_create(slot=slot, applicant=applicant(phone="+33612345678"))
    code = sent_code(hold)

    assert delivery.outbox_sweep() == 2

    email = inbox.messages()[0]
    assert code in email["Subject"]
    text = email.get_body(("plain",)).get_content()
    assert code in text
    assert "Ne donnez ce code à personne" in text
    assert hold.hold_expires_at.astimezone(paris.timezone).strftime("%H:%M") in text
    assert code in email.get_body(("html",)).get_content()
    [(to, sms)] = recorded
    assert to == "+33612345678"
    assert sms.startswith(f"Passeport Premium : code {code} pour confirmer le rendez-vous")
    # Sent: the code leaves the database (only its keyed hash stays with the appointment).
    assert [m.payload for m in OutboxMessage.objects.filter(kind="booking_code")] == [{}, {}]


def test_the_code_for_an_identity_already_booked_is_written_to_its_holder(paris, inbox, recorded):
    holder = applicant(given_names="Awa", surname="DIARRA", email="awa@example.org")
    booked, token = services.booking_create(slot=slot_at(paris, 9), applicant=holder)
    services.booking_confirm(appointment=booked, code=sent_code(booked), token=token)
    delivery.outbox_sweep()
    inbox.envelopes.clear()
    recorded.clear()
    tout = applicant(
        national_id=holder.national_id,
        given_names="Moussa",
        surname="KEITA",
        email="tout@example.net",
        phone="+22399999999",
    )
    hold, _token = services.booking_create(slot=slot_at(paris, 10), applicant=tout)
    code = sent_code(hold)

    delivery.outbox_sweep()

    [email] = inbox.messages()
    assert email["To"] == "awa@example.org"
    text = email.get_body(("plain",)).get_content()
    assert "Bonjour Awa DIARRA," in text  # the holder, not the name typed by the requester
    assert "Moussa" not in text
    assert f"Vous avez déjà le rendez-vous {booked.reference}" in text
    assert "remplacera l’actuel" in text
    assert code in text
    [(to, sms)] = recorded
    assert to == holder.phone
    assert sms.endswith(f"Il remplacera votre rendez-vous {booked.reference}.")
