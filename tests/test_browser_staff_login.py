"""A supervisor's first login in a real browser: sent to the enrolment page, they type the
enrolment code an administrator gave them, add the secret to their authenticator app,
confirm it with a first code, then log in with a code."""

import pytest

from appointments.tests.factories import paris_consulate
from core.services import staff_enrolment_code_issue, staff_upsert
from tests.browser import DESKTOP
from tests.support import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, code=None):
    page.goto(base + "/staff/connexion/")
    page.get_by_label("Identifiant").fill("superviseur.paris")
    page.get_by_label("Mot de passe").fill("pw-demo-123")
    if code is not None:
        page.get_by_label("Code de vérification").fill(code)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def test_a_supervisor_enrols_then_logs_in_with_a_code(live_server, new_page):
    office = paris_consulate()
    user = staff_upsert(
        username="superviseur.paris",
        password="pw-demo-123",
        role="supervisor",
        office_codes=[office.code],
    )
    base = live_server.url
    page = new_page(DESKTOP)
    log_in(page, base)
    # Nothing but the enrolment page: its QR code and its key.
    assert "/staff/double-authentification/" in page.url
    page.goto(base + "/staff/dossiers/")
    assert "/staff/double-authentification/" in page.url
    # The password alone shows no secret: first the code an administrator gave.
    assert page.locator(".totp-qr").count() == 0
    page.get_by_label("Code d’enregistrement").fill("ABCD-EFGH-JKMN")
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_load_state()
    assert "Code d’enregistrement incorrect" in page.locator(".notice-error").inner_text()
    page.get_by_label("Code d’enregistrement").fill(staff_enrolment_code_issue(user=user))
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_load_state()
    assert page.locator(".totp-qr svg").count() == 1
    secret = page.locator(".totp-qr code").inner_text().replace(" ", "")
    first_code = totp_code(secret)
    page.get_by_label("Code affiché par l’application").fill(first_code)
    page.get_by_role("button", name="Confirmer").click()
    page.wait_for_load_state()
    assert "Double authentification activée." in page.locator(".messages").inner_text()
    assert "/staff/dossiers/" in page.url  # where they were going

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state()
    log_in(page, base)  # without the code: refused
    assert "code de vérification incorrect" in page.locator(".notice-error").inner_text()
    # A code is good once: the one the enrolment took is refused (whether or not the app has
    # moved on to the next since), the app's next one opens.
    log_in(page, base, code=first_code)
    assert "/staff/connexion/" in page.url
    page.wait_for_timeout(2_000)  # after a wrong code, the device takes none for a second
    log_in(page, base, code=totp_code(secret, steps_ahead=1))
    assert "/staff/agenda/" in page.url
    assert page.get_by_role("link", name="Arriéré").count() == 1
