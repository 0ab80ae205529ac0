"""An applicant books, then cancels, in a real browser on a phone-sized screen, with the
anti-bot proof of work on (solved by the page's own script)."""

import pytest

from appointments.models import Appointment, Slot
from appointments.tests.factories import paris_consulate, slot_at
from tests.browser import book_on_the_first_day, fill_and_confirm_the_booking_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paris():
    office = paris_consulate()
    slot_at(office, 9, 30, days=2, capacity=2)
    return office


def test_an_applicant_books_and_cancels_from_a_phone(live_server, page, paris, settings):
    settings.BOOKING_CHALLENGE = True
    settings.BOOKING_CHALLENGE_MAX_NUMBER = 20_000
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Consulat général du Mali à Paris").click()
    book_on_the_first_day(page, "09:30", phone="+33 6 12 34 56 78")

    page.wait_for_url("**/rendez-vous/**")
    appointment = Appointment.objects.get()
    assert page.locator(".reference strong").inner_text() == appointment.reference
    assert "Votre rendez-vous est réservé." in page.locator(".messages").inner_text()
    assert "09:30" in page.locator(".summary").inner_text()
    assert "Europe/Paris" in page.locator(".summary").inner_text()
    assert appointment.phone == "+33612345678"

    page.get_by_role("link", name="Annuler le rendez-vous").click()
    page.get_by_role("button", name="Oui, annuler ce rendez-vous").click()
    assert "Votre rendez-vous est annulé" in page.locator(".messages").inner_text()
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert Slot.objects.get().booked == 0


def test_a_form_sent_without_its_script_faster_than_a_person_books_nothing(
    live_server, page, paris, settings
):
    settings.BOOKING_CHALLENGE = True
    settings.BOOKING_PACE_SECONDS = 3600
    slot = Slot.objects.get()
    # A client that posts the form without running its script (a bot) at once: refused,
    # clearly, beside the button.
    page.route("**/static/js/challenge.js", lambda route: route.abort())
    page.goto(f"{live_server.url}/bureaux/{paris.code}/creneau/{slot.pk}/")
    fill_and_confirm_the_booking_form(page)
    page.wait_for_load_state()
    assert "Le formulaire a été envoyé très vite" in page.locator("#form-errors").inner_text()
    assert not Appointment.objects.exists()
    assert Slot.objects.get().booked == 0
