"""An applicant books, then cancels, in a real browser on a phone-sized screen, with the
anti-bot proof of work on (solved by the page's own script)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.models import Appointment, Slot
from appointments.tests.factories import OfficeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paris():
    office = OfficeFactory(
        code="paris-consulat",
        name="Consulat général du Mali à Paris",
        name_en="Consulate General of Mali in Paris",
        city="Paris",
        country="FR",
        timezone=ZoneInfo("Europe/Paris"),
        address="64 rue de Prony, 75017 Paris",
    )
    local = timezone.now().astimezone(office.timezone) + timedelta(days=2)
    start = local.replace(hour=9, minute=30, second=0, microsecond=0)
    Slot.objects.create(
        office=office, starts_at=start, ends_at=start + timedelta(minutes=15), capacity=2
    )
    return office


def test_an_applicant_books_and_cancels_from_a_phone(live_server, page, paris, settings):
    settings.BOOKING_CHALLENGE = True
    settings.BOOKING_CHALLENGE_MAX_NUMBER = 20_000
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Consulat général du Mali à Paris").click()
    page.locator(".days a").first.click()
    page.get_by_role("link", name="09:30").click()

    page.get_by_label("Nom", exact=True).fill("Traoré")
    page.get_by_label("Prénoms").fill("Aminata")
    page.get_by_label("Date de naissance").fill("1990-05-17")
    page.get_by_label("NINA ou numéro de passeport").fill("12345678901234A")
    page.get_by_label("Adresse e-mail").fill("aminata@example.org")
    page.get_by_label("Téléphone").fill("+33 6 12 34 56 78")
    page.get_by_label("J’accepte").check()
    page.get_by_role("button", name="Confirmer le rendez-vous").click()

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


def test_without_solving_the_challenge_nothing_is_booked(live_server, page, paris, settings):
    settings.BOOKING_CHALLENGE = True
    slot = Slot.objects.get()
    # A client that posts the form without running its script (a bot): refused, clearly.
    page.route("**/static/js/challenge.js", lambda route: route.abort())
    page.goto(f"{live_server.url}/bureaux/{paris.code}/creneau/{slot.pk}/")
    page.get_by_label("Nom", exact=True).fill("Traoré")
    page.get_by_label("Prénoms").fill("Aminata")
    page.get_by_label("Date de naissance").fill("1990-05-17")
    page.get_by_label("NINA ou numéro de passeport").fill("12345678901234A")
    page.get_by_label("Adresse e-mail").fill("aminata@example.org")
    page.get_by_label("Téléphone").fill("+33612345678")
    page.get_by_label("J’accepte").check()
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    page.wait_for_load_state()
    assert "vérification anti-robots" in page.content()
    assert not Appointment.objects.exists()
