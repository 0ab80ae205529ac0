"""A booking made with the keyboard alone in chromium (Tab to move, Space to choose, Enter to
follow or send, and typing), from `/` to the manage page, with contact verification on and
the page's proof of work."""

import pytest

from appointments.models import Appointment
from appointments.tests.factories import paris_consulate, slot_at
from appointments.tests.verification import sent_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPED = [
    ("surname", "Traoré"),
    ("given_names", "Aminata"),
    ("birth_date_day", "17"),
    ("birth_date_month", "5"),
    ("birth_date_year", "1990"),
    ("national_id", "12345678901234A"),
    ("email", "aminata@example.org"),
    ("phone", "+33612345678"),
]


def tab_to(page, selector: str, *, most: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (as a person moves
    through the page); fails when it is never reached."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"the keyboard never reaches {selector}")


def test_an_applicant_books_with_the_keyboard_only(live_server, page, settings):
    settings.BOOKING_VERIFY_CONTACT = True
    settings.BOOKING_CHALLENGE = True
    settings.BOOKING_CHALLENGE_MAX_NUMBER = 20_000
    paris = paris_consulate()
    slot_at(paris, 9, 30, days=2)
    page.goto(live_server.url + "/")

    tab_to(page, f'a[href="/bureaux/{paris.code}/"]')
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/bureaux/{paris.code}/")
    tab_to(page, "table.month a.free")
    page.keyboard.press("Enter")
    page.wait_for_url("**/jour/*/")
    tab_to(page, 'input[name="slot"]')
    page.keyboard.press("Space")
    assert page.get_by_label("09:30", exact=True).is_checked()
    for name, text in TYPED:
        tab_to(page, f'[name="{name}"]')
        page.keyboard.type(text)
    tab_to(page, '[name="consent"]')
    page.keyboard.press("Space")
    tab_to(page, 'button[type="submit"]')
    page.keyboard.press("Enter")

    page.wait_for_url("**/confirmer/")
    tab_to(page, '[name="code"]')
    page.keyboard.type(sent_code(Appointment.objects.get()))
    page.keyboard.press("Enter")
    page.wait_for_url("**/rendez-vous/*/*/")
    assert "Votre rendez-vous est confirmé." in page.locator(".messages").inner_text()
    appointment = Appointment.objects.get()
    assert appointment.status == "booked"
    assert appointment.surname == "TRAORÉ"
