"""The staff journey in a real browser: an applicant books at Paris; an agent of Paris checks
them in and enrols them; the operator of Bamako produces the passport and ships it; Paris
receives the pouch and delivers it, every step on the file's timeline; an agent of Dakar
sees none of it."""

import pytest

from appointments.tests.factories import OfficeFactory, paris_consulate, slot_at
from consulates.tests.factories import MissionFactory
from core.models import Office
from core.services import staff_upsert
from production.models import PassportFile
from production.tests.factories import CentreFactory
from tests.browser import DESKTOP, book_on_the_first_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey(settings):
    settings.BOOKING_CHALLENGE = False  # solved in a browser in test_browser_booking
    bamako = CentreFactory(office__code="bko-centre", office__name="Centre de Bamako")
    paris = MissionFactory(office=paris_consulate(), centre=bamako)
    OfficeFactory(code="dakar-consulat", kind=Office.Kind.MISSION)
    slot = slot_at(paris.office, 9, 30, capacity=2)
    for username, role, office in [
        ("agent.paris", "agent", "paris-consulat"),
        ("operateur.bko", "operator", "bko-centre"),
        ("agent.dakar", "agent", "dakar-consulat"),
    ]:
        staff_upsert(username=username, password="pw-demo-123", role=role, office_codes=[office])
    return {"paris": paris, "day": slot.starts_at.astimezone(paris.office.timezone).date()}


@pytest.fixture
def log_in(live_server, new_page):
    """A member of staff logged in at a desk of their own (a browser context each)."""

    def at_a_desk(username):
        page = new_page(DESKTOP)
        page.goto(live_server.url + "/staff/connexion/")
        page.get_by_label("Identifiant").fill(username)
        page.get_by_label("Mot de passe").fill("pw-demo-123")
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()
        return page

    return at_a_desk


def move(page, to_label):
    page.get_by_label("Nouveau statut").select_option(label=to_label)
    page.get_by_role("button", name="Changer le statut").click()
    page.wait_for_load_state()
    assert "Statut mis à jour." in page.locator(".messages").inner_text()


def test_from_booking_to_delivery(live_server, page, log_in, journey):
    base = live_server.url
    # The applicant books at Paris.
    page.goto(base + "/bureaux/paris-consulat/")
    book_on_the_first_day(page, "09:30")
    reference = page.locator(".reference strong").inner_text()

    # An agent of Paris checks the applicant in and enrols them.
    paris = log_in("agent.paris")
    paris.goto(f"{base}/staff/agenda/paris-consulat/?date={journey['day'].isoformat()}")
    row = paris.locator("tr", has_text=reference)
    row.get_by_role("button", name="Présent").click()
    paris.locator("tr", has_text=reference).get_by_role("button", name="Enrôler").click()
    paris.wait_for_url("**/staff/dossiers/**")
    file_url = paris.url
    move(paris, "en attente de production")

    # The operator of Bamako produces the passport and ships it in the pouch.
    bamako = log_in("operateur.bko")
    bamako.goto(file_url)
    move(bamako, "en production")
    move(bamako, "contrôle qualité")
    bamako.goto(base + "/staff/valises/")
    bamako.get_by_role("button", name="Expédier la valise").click()
    assert "Valise expédiée : 1 passeport(s)" in bamako.locator(".messages").inner_text()

    # While the pouch travels, Paris sees it coming and an agent of Dakar does not.
    paris.goto(base + "/staff/valises/")
    assert "TRAORÉ" in paris.content()
    dakar = log_in("agent.dakar")
    dakar.goto(base + "/staff/valises/")
    assert "TRAORÉ" not in dakar.content()

    # Paris receives the pouch and delivers the passport.
    paris.goto(base + "/staff/valises/")
    paris.get_by_role("button", name="Réceptionner").click()
    assert "Valise reçue complète." in paris.locator(".messages").inner_text()
    paris.goto(file_url)
    move(paris, "remis")
    timeline = paris.locator(".timeline").inner_text()
    for step in [
        "dossier reçu",
        "en attente de production",
        "en production",
        "contrôle qualité",
        "en acheminement",
        "disponible",
        "remis",
    ]:
        assert step in timeline, step
    assert PassportFile.objects.get().status == "delivered"

    # The file is in the list of Paris; the agent of Dakar sees none of it.
    file = PassportFile.objects.get()
    paris.goto(base + "/staff/dossiers/")
    assert file.reference in paris.content()
    assert "TRAORÉ" in paris.content()
    dakar.goto(base + "/staff/dossiers/")
    assert reference not in dakar.content()
    assert file.reference not in dakar.content()
    assert "TRAORÉ" not in dakar.content()
    assert dakar.goto(file_url).status == 404
    dakar.goto(base + "/staff/valises/")
    assert "TRAORÉ" not in dakar.content()
