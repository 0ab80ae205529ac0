"""The whole booking journey in chromium on a phone's screen, from `/` to the manage page,
with contact verification on (the code read from the outbox, as the applicant reads it on
their phone), in French and in English: without JavaScript (the server's pacing token) and
with it (the browser's proof of work, renewed when it has lapsed); four navigations at most
(link follows and form posts, typing excluded); the month grid's days are those of the
availability API, and the office page with all it loads stays under 100 KB, from the portal
alone."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment, UsedChallenge
from appointments.tests.factories import paris_consulate, slot_at
from appointments.tests.verification import sent_code
from tests.browser import fill_birth_date, fill_the_booking_form, first_free_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOST_NAVIGATIONS = 4


@pytest.fixture
def paris(settings):
    settings.BOOKING_VERIFY_CONTACT = True
    settings.BOOKING_CHALLENGE = True
    settings.BOOKING_CHALLENGE_MAX_NUMBER = 20_000
    settings.BOOKING_PACE_SECONDS = 2
    office = paris_consulate()
    slot_at(office, 9, 30, days=2, capacity=2)
    return office


def navigations(page) -> list[str]:
    """The main frame's navigations from now on: each link followed and form posted, once
    (the redirects that follow a post are part of it)."""
    seen: list[str] = []

    def count(request) -> None:
        if (
            request.is_navigation_request()
            and request.frame == page.main_frame
            and request.redirected_from is None
        ):
            seen.append(f"{request.method} {request.url}")

    page.on("request", count)
    return seen


# What the applicant reads and types, in each language.
WORDS = {
    "fr": {
        "home": "/",
        "office": "Consulat général du Mali à Paris",
        "surname": "Nom",
        "given_names": "Prénoms",
        "national_id": "NINA ou numéro de passeport",
        "email": "Adresse e-mail",
        "phone": "Téléphone",
        "consent": "J’accepte",
        "send": "Confirmer le rendez-vous",
        "code": "Code reçu par SMS ou par e-mail",
        "confirmed": "Votre rendez-vous est confirmé.",
        "too_quick": "Le formulaire a été envoyé très vite",
    },
    "en": {
        "home": "/en/",
        "office": "Consulate General of Mali in Paris",
        "surname": "Surname",
        "given_names": "Given names",
        "national_id": "NINA or passport number",
        "email": "Email address",
        "phone": "Phone",
        "consent": "I agree",
        "send": "Confirm the appointment",
        "code": "Code received by text message or email",
        "confirmed": "Your appointment is confirmed.",
        "too_quick": "The form was sent very quickly",
    },
}


def pick_a_time_and_fill_in(page, words: dict, language: str) -> None:
    """On the day's page: 09:30, and the form as Aminata Traoré fills it in."""
    page.get_by_label("09:30", exact=True).check()
    page.get_by_label(words["surname"], exact=True).fill("Traoré")
    page.get_by_label(words["given_names"]).fill("Aminata")
    fill_birth_date(page, "17", "5", "1990", english=language == "en")
    page.get_by_label(words["national_id"]).fill("12345678901234A")
    page.get_by_label(words["email"]).fill("aminata@example.org")
    page.get_by_label(words["phone"]).fill("+33612345678")
    page.get_by_label(words["consent"]).check()


def enter_the_code(page, words: dict) -> None:
    page.wait_for_url("**/confirmer/")
    page.get_by_label(words["code"]).fill(sent_code(Appointment.objects.get()))
    page.get_by_role("button", name=words["send"]).click()
    page.wait_for_url("**/rendez-vous/*/*/")
    assert words["confirmed"] in page.locator(".messages").inner_text()
    assert Appointment.objects.get().status == "booked"


def book_from_home(live_server, page, language: str, *, wait: float = 0) -> list[str]:
    """From the home page to the manage page; the navigations it took."""
    words = WORDS[language]
    page.goto(live_server.url + words["home"])
    seen = navigations(page)
    page.get_by_role("link", name=words["office"]).click()
    first_free_day(page)
    pick_a_time_and_fill_in(page, words, language)
    time.sleep(wait)  # a person takes longer than that to fill the form in
    page.get_by_role("button", name=words["send"]).click()
    enter_the_code(page, words)
    assert page.url.startswith(f"{live_server.url}{words['home']}rendez-vous/")
    appointment = Appointment.objects.get()
    assert page.locator(".reference strong").inner_text() == appointment.reference
    return seen


@pytest.mark.parametrize("language", ["fr", "en"])
def test_without_javascript_from_home_to_the_manage_page(live_server, new_page, paris, language):
    page = new_page(java_script_enabled=False, locale=f"{language}-FR")
    seen = book_from_home(live_server, page, language, wait=2)
    assert len(seen) <= MOST_NAVIGATIONS, seen
    assert [entry.split()[0] for entry in seen] == ["GET", "GET", "POST", "POST"]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_with_javascript_from_home_to_the_manage_page(live_server, new_page, paris, language):
    page = new_page(locale=f"{language}-FR")
    seen = book_from_home(live_server, page, language)
    assert len(seen) <= MOST_NAVIGATIONS, seen
    # Booked by the page's proof of work, not by its pacing token.
    [used] = UsedChallenge.objects.values_list("signature", flat=True)
    assert not used.startswith("pace:")


def test_without_javascript_a_quick_sender_keeps_what_they_typed(
    live_server, new_page, paris, settings
):
    words = WORDS["en"]
    page = new_page(java_script_enabled=False, locale="en-GB")
    page.goto(f"{live_server.url}/en/bureaux/{paris.code}/")
    first_free_day(page)
    pick_a_time_and_fill_in(page, words, "en")
    settings.BOOKING_PACE_SECONDS = 3600  # faster than a person could be
    page.get_by_role("button", name=words["send"]).click()

    assert words["too_quick"] in page.locator("#form-errors").inner_text()
    assert page.get_by_label("Surname").input_value() == "Traoré"
    assert page.get_by_label("Year").input_value() == "1990"
    assert page.get_by_label("09:30", exact=True).is_checked()
    assert not Appointment.objects.exists()

    settings.BOOKING_PACE_SECONDS = 2
    time.sleep(2)
    page.get_by_role("button", name=words["send"]).click()
    enter_the_code(page, words)


def test_a_lapsed_proof_of_work_is_renewed_when_the_form_is_sent(live_server, page, paris, freeze):
    challenges = []
    page.on("request", lambda r: challenges.append(r.url) if "/challenge/" in r.url else None)
    page.clock.install()
    page.goto(f"{live_server.url}/bureaux/{paris.code}/")
    first_free_day(page)
    solved = "document.querySelector('input[name=altcha]').value !== ''"
    deadline = time.monotonic() + 30
    while not page.evaluate(solved):  # (polled from here: the page's timers are faked)
        assert time.monotonic() < deadline, "the proof of work was never solved"
        time.sleep(0.1)
    page.get_by_label("09:30", exact=True).check()
    fill_the_booking_form(page)
    # Three minutes at the form: the challenge has lapsed, for the page and the server.
    freeze(timezone.now() + timedelta(minutes=3), tick=True)
    page.clock.fast_forward("03:00")
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    page.wait_for_url("**/confirmer/")
    assert Appointment.objects.get().status == "pending"
    assert len(challenges) == 2  # renewed once, at the submit, without a reload
    # Booked by the renewed proof of work, not by the page's pacing token.
    [used] = UsedChallenge.objects.values_list("signature", flat=True)
    assert not used.startswith("pace:")


def test_the_month_grid_shows_the_days_of_the_availability_api(live_server, page, paris):
    for days in (3, 9, 31, 45):
        slot_at(paris, 14, days=days)
    today = timezone.now().astimezone(paris.timezone).date()
    end = today + timedelta(days=60)
    answer = page.request.get(
        f"{live_server.url}/api/v1/offices/{paris.code}/slots/?from={today}&to={end}"
    )
    from_api = {slot["starts_at"][:10] for slot in answer.json()}

    loaded = []
    page.on("response", lambda response: loaded.append((response.url, len(response.body()))))
    page.goto(f"{live_server.url}/bureaux/{paris.code}/?mois={today:%Y-%m}")
    # The office page stays light: all it loads under 100 KB, from the portal alone.
    assert all(url.startswith(live_server.url) for url, _size in loaded), loaded
    assert sum(size for _url, size in loaded) < 100_000, loaded
    shown = set()
    while True:
        for link in page.locator("table.month a.free").all():
            shown.add(link.get_attribute("href").rstrip("/").rsplit("/", 1)[1])
        following = page.locator('a[rel="next"]')
        if not following.count():
            break
        with page.expect_navigation():
            following.click()
    assert shown == from_api
    assert len(shown) == 5
