"""From the manage link, in a real browser: the choice of messages and the code of a held
seat, on pages that keep the manage link out of every Referer and cache."""

import pytest

from appointments.models import Appointment
from appointments.tests.factories import book, paris_consulate, slot_at
from appointments.tests.verification import sent_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_applicant_turns_the_sms_off_from_the_manage_page(live_server, page):
    appointment, token = book(slot=slot_at(paris_consulate(), 9, 30, days=2))
    response = page.goto(f"{live_server.url}/rendez-vous/{appointment.reference}/{token}/")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in response.headers["cache-control"]

    page.get_by_role("link", name="Choisir mes messages").click()
    page.get_by_label("Recevoir les messages par SMS").uncheck()
    page.get_by_role("button", name="Enregistrer mes choix").click()
    assert "Vos choix de messages sont enregistrés." in page.locator(".messages").inner_text()
    appointment.refresh_from_db()
    assert (appointment.notify_email, appointment.notify_sms) == (True, False)


def test_an_applicant_enters_the_code_that_confirms_a_held_seat(live_server, page, settings):
    settings.BOOKING_VERIFY_CONTACT = True
    appointment, token = book(slot=slot_at(paris_consulate(), 9, 30, days=2))
    assert appointment.status == "pending"
    page.goto(f"{live_server.url}/rendez-vous/{appointment.reference}/{token}/")
    page.get_by_role("link", name="Saisir le code").click()
    page.get_by_label("Code reçu par SMS ou par e-mail").fill(sent_code(appointment))
    page.get_by_role("button").filter(has_text="Confirmer").click()
    assert "Votre rendez-vous est confirmé." in page.locator(".messages").inner_text()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
