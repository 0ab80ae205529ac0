"""Following a passport file in a real browser, on a phone-sized screen, without
JavaScript being needed."""

from datetime import date

import pytest

from production.models import FileEvent
from production.tests.factories import CentreFactory, PassportFileFactory
from tests.browser import fill_birth_date

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_applicant_follows_a_file_from_the_home_page(live_server, page):
    centre = CentreFactory(office__code="bko-centre", office__name="Centre de Bamako")
    file = PassportFileFactory(centre=centre, status="ready", birth_date=date(1990, 1, 1))
    FileEvent.objects.create(file=file, from_status="", to_status="enrolled")
    FileEvent.objects.create(file=file, from_status="quality_check", to_status="ready")

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Suivre mon dossier de passeport").click()
    page.wait_for_url(live_server.url + "/suivi/")
    page.get_by_label("Numéro de dossier ou référence du rendez-vous").fill(file.reference.lower())
    fill_birth_date(page, "2", "1", "1990")
    page.get_by_role("button", name="Voir où en est mon dossier").click()
    assert "Aucun dossier ni rendez-vous ne correspond" in page.get_by_role("alert").inner_text()

    fill_birth_date(page, "1", "1", "1990")
    page.get_by_role("button", name="Voir où en est mon dossier").click()
    assert page.get_by_text("Passeport prêt : vous pouvez venir le retirer").first.is_visible()
    steps = page.locator("ol.timeline li")
    assert steps.count() == 2
    assert "Centre de Bamako" in page.locator("dl.summary").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    page.goto(live_server.url + "/en/suivi/")
    page.get_by_label("File number or appointment reference").fill(file.reference)
    fill_birth_date(page, "01", "01", "1990", english=True)
    page.get_by_role("button", name="See where my file is").click()
    assert page.get_by_text("Passport ready: you can come and collect it").first.is_visible()
