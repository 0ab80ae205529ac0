"""The waiting room at a reopening, in a real browser with JavaScript turned off: the booking
form sends the applicant to the waiting room, the page reloads itself (meta refresh) until
the reopening draws the order and the applicant's turn comes, then sends them back to the
booking form, which books (its pacing token standing for the proof of work)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment, Suspension
from appointments.tests.factories import paris_consulate, slot_at
from tests.browser import PHONE, fill_and_confirm_the_booking_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def no_script_page(browser):
    context = browser.new_context(viewport=PHONE, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_without_javascript_the_page_waits_for_the_turn_then_books(
    live_server, no_script_page, settings
):
    # Bot protection on: without JavaScript the form's pacing token stands for the proof of
    # work (its wait is tested in appointments/tests/test_pacing.py).
    settings.BOOKING_CHALLENGE = True
    settings.BOOKING_PACE_SECONDS = 0
    settings.WAITING_ROOM_RATE = 50
    page = no_script_page
    paris = paris_consulate()
    slot = slot_at(paris, 9, 30, days=2)
    reopens_at = timezone.now() + timedelta(seconds=6)
    suspension = Suspension.objects.create(
        starts_at=timezone.now() - timedelta(days=1), reopens_at=reopens_at, message="Suspendu."
    )
    suspension.offices.set([paris])
    base = live_server.url

    # The office page points to the waiting room.
    page.goto(f"{base}/bureaux/{paris.code}/")
    assert page.get_by_role("link", name="Entrer dans la salle d’attente").count() == 1

    # The booking form, before the turn: to the waiting room.
    form = f"/bureaux/{paris.code}/creneau/{slot.pk}/"
    page.goto(base + form)
    assert "/salle-d-attente/" in page.url
    page.get_by_role("button", name="Prendre une place").click()
    page.wait_for_load_state()
    assert "Votre place : n° 1" in page.content()
    assert "tiré au sort à la réouverture" in page.content()
    refresh = page.locator('meta[http-equiv="refresh"]').get_attribute("content")
    assert 3 <= int(refresh) <= 15

    # Nobody clicks: the page reloads itself until the turn comes.
    page.wait_for_selector("text=C’est votre tour", timeout=40_000)
    assert timezone.now() >= reopens_at
    # ...then sends the applicant on to the booking form they came from.
    page.wait_for_url(f"**{form}", timeout=15_000)
    assert page.get_by_role("button", name="Confirmer le rendez-vous").count() == 1
    fill_and_confirm_the_booking_form(page)
    page.wait_for_url("**/rendez-vous/**")
    assert Appointment.objects.get().slot_id == slot.pk
