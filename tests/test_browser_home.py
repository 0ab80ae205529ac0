"""The home page in a real browser, on a phone-sized screen."""

from urllib.parse import urlsplit

import pytest

from appointments.tests.factories import (
    CentreOfficeFactory,
    OfficeFactory,
    SlotFactory,
    paris_consulate,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_applicant_sees_the_offices_and_switches_to_english(live_server, page):
    CentreOfficeFactory(code="bko-centre", name="Centre de Bamako", name_en="Bamako centre")
    paris = paris_consulate()
    SlotFactory(office=paris)  # a free slot: booking is open there
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))

    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Rendez-vous pour le passeport Premium"
    )
    centres = page.get_by_role("region", name="Centres de production au Mali")
    assert centres.get_by_role("heading", name="Centre de Bamako").is_visible()
    paris = page.locator("#office-paris-consulat")
    assert "Europe/Paris" in paris.inner_text()
    assert "Réservation Premium ouverte" in paris.inner_text()
    # The stylesheet is ours and applied: the layout is not the browser's default.
    assert page.locator(".office").first.evaluate("e => getComputedStyle(e).borderRadius") == "6px"

    page.get_by_role("link", name="English").click()
    page.wait_for_url(live_server.url + "/en/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Appointments for the Premium passport"
    )
    assert page.get_by_role("heading", name="Consulate General of Mali in Paris").is_visible()

    page.get_by_role("link", name="Français").click()
    page.wait_for_url(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"

    # No CDN, no third-party request: everything came from the portal itself.
    assert hosts == {urlsplit(live_server.url).netloc}


def test_the_page_fits_a_phone_screen_without_horizontal_scrolling(live_server, page):
    for n in range(6):
        OfficeFactory(code=f"mission-{n}", name="Consulat général du Mali à Ouagadougou")
    page.goto(live_server.url + "/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_an_applicant_follows_the_link_to_the_status_page(live_server, page):
    from django.utils import timezone

    from appointments.models import Suspension

    paris = paris_consulate()
    suspension = Suspension.objects.create(
        starts_at=timezone.now(), message="Service suspendu à Paris.", message_en="Suspended."
    )
    suspension.offices.add(paris)
    for n in range(6):
        OfficeFactory(code=f"mission-{n}", name="Consulat général du Mali à Ouagadougou")
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="État du service et délais de production").click()
    page.wait_for_url(live_server.url + "/statut/")
    assert page.get_by_role("heading", level=1).inner_text() == "État du service Premium"
    office = page.locator("#office-paris-consulat")
    assert "Service Premium suspendu" in office.inner_text()
    assert "Service suspendu à Paris." in office.inner_text()
    assert "La date de réouverture n’est pas encore fixée." in office.inner_text()
    # The figures sit beside their labels, and the page fits a phone's screen.
    figures = office.locator(".figures")
    assert figures.evaluate("e => getComputedStyle(e).display") == "grid"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    page.get_by_role("link", name="English").click()
    page.wait_for_url(live_server.url + "/en/statut/")
    assert page.get_by_role("heading", level=1).inner_text() == "Premium service status"
    assert hosts == {urlsplit(live_server.url).netloc}


def test_no_page_request_fails_the_favicon_included(live_server, page):
    paris = paris_consulate()
    SlotFactory(office=paris)
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    for path in ["/", "/statut/", "/suivi/", f"/bureaux/{paris.code}/"]:
        page.goto(live_server.url + path)
        icon = page.locator('link[rel="icon"]').get_attribute("href")
        answer = page.request.get(live_server.url + icon)
        assert answer.status == 200
        assert answer.headers["content-type"].startswith("image/")
    root = page.request.get(live_server.url + "/favicon.ico")
    assert root.status == 200
    assert failed == []
