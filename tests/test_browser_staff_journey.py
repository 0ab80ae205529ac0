"""Issue 4's journey in a real browser: an applicant books at Paris; an agent of Paris checks
them in and enrols them; the operator of Bamako produces the passport and ships it; Paris
receives the pouch and delivers it, every step on the file's timeline; an agent of Dakar
sees none of it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Office, Slot
from appointments.services import staff_upsert
from appointments.tests.factories import OfficeFactory
from consulates.tests.factories import MissionFactory
from production.models import PassportFile
from production.tests.factories import CentreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings):
    settings.BOOKING_CHALLENGE = False  # solved in a browser in test_browser_booking
    bamako = CentreFactory(office__code="bko-centre", office__name="Centre de Bamako")
    paris = MissionFactory(
        office__code="paris-consulat",
        office__kind=Office.Kind.MISSION,
        office__name="Consulat général du Mali à Paris",
        centre=bamako,
    )
    OfficeFactory(code="dakar-consulat", kind=Office.Kind.MISSION)
    local = timezone.now().astimezone(paris.office.timezone) + timedelta(days=1)
    start = local.replace(hour=9, minute=30, second=0, microsecond=0)
    Slot.objects.create(
        office=paris.office, starts_at=start, ends_at=start + timedelta(minutes=15), capacity=2
    )
    for username, role, office in [
        ("agent.paris", "agent", "paris-consulat"),
        ("operateur.bko", "operator", "bko-centre"),
        ("agent.dakar", "agent", "dakar-consulat"),
    ]:
        staff_upsert(username=username, password="pw-demo-123", role=role, office_codes=[office])
    return {"paris": paris, "day": start.date()}


def log_in(browser, base, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(base + "/staff/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill("pw-demo-123")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    return page


def move(page, to_label):
    page.get_by_label("Nouveau statut").select_option(label=to_label)
    page.get_by_role("button", name="Changer le statut").click()
    page.wait_for_load_state()
    assert "Statut mis à jour." in page.locator(".messages").inner_text()


def test_from_booking_to_delivery(live_server, browser, page, world):
    base = live_server.url
    # The applicant books at Paris.
    page.goto(base + "/bureaux/paris-consulat/")
    page.locator(".days a").first.click()
    page.get_by_role("link", name="09:30").click()
    page.get_by_label("Nom", exact=True).fill("Traoré")
    page.get_by_label("Prénoms").fill("Aminata")
    page.get_by_label("Date de naissance").fill("1990-05-17")
    page.get_by_label("NINA ou numéro de passeport").fill("12345678901234A")
    page.get_by_label("Adresse e-mail").fill("aminata@example.org")
    page.get_by_label("Téléphone").fill("+33612345678")
    page.get_by_label("J’accepte").check()
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    reference = page.locator(".reference strong").inner_text()

    # An agent of Paris checks the applicant in and enrols them.
    paris = log_in(browser, base, "agent.paris")
    paris.goto(f"{base}/staff/agenda/paris-consulat/?date={world['day'].isoformat()}")
    row = paris.locator("tr", has_text=reference)
    row.get_by_role("button", name="Présent").click()
    paris.locator("tr", has_text=reference).get_by_role("button", name="Enrôler").click()
    paris.wait_for_url("**/staff/dossiers/**")
    file_url = paris.url
    move(paris, "en attente de production")

    # The operator of Bamako produces the passport and ships it in the pouch.
    bamako = log_in(browser, base, "operateur.bko")
    bamako.goto(file_url)
    move(bamako, "en production")
    move(bamako, "contrôle qualité")
    bamako.goto(base + "/staff/valises/")
    bamako.get_by_role("button", name="Expédier la valise").click()
    assert "Valise expédiée : 1 passeport(s)" in bamako.locator(".messages").inner_text()

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

    # An agent of Dakar sees none of it.
    dakar = log_in(browser, base, "agent.dakar")
    dakar.goto(base + "/staff/dossiers/")
    assert reference not in dakar.content()
    assert PassportFile.objects.get().reference not in dakar.content()
    assert dakar.goto(file_url).status == 404
    dakar.goto(base + "/staff/valises/")
    assert "Traoré".upper() not in dakar.content()
