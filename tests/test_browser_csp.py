"""The pages under the Content-Security-Policy in a real browser: what used inline
code works from static files, and the admin and the API docs load without a violation
(every browser test fails on a violation in the console: tests/conftest.py)."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django_celery_beat.models import CrontabSchedule

from appointments.tests.factories import OfficeFactory, paris_consulate
from core.models import Office
from core.services import staff_upsert
from tests.browser import DESKTOP
from tests.support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(live_server, new_page):
    """An agent of Paris and Dakar, logged in at a desk."""
    paris_consulate()
    OfficeFactory(code="dakar-consulat", kind=Office.Kind.MISSION, city="Dakar")
    staff_upsert(
        username="agent.two",
        password="pw-demo-123",
        role="agent",
        office_codes=["paris-consulat", "dakar-consulat"],
    )
    page = new_page(DESKTOP)
    page.goto(live_server.url + "/staff/connexion/")
    page.get_by_label("Identifiant").fill("agent.two")
    page.get_by_label("Mot de passe").fill("pw-demo-123")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    return page


def test_the_agendas_office_switch_works_without_inline_code(live_server, desk):
    desk.goto(live_server.url + "/staff/agenda/paris-consulat/")
    switch = desk.get_by_label("Bureau")
    dakar = switch.locator("option", has_text="Dakar").get_attribute("value")
    switch.select_option(value=dakar)
    desk.wait_for_url("**/staff/agenda/dakar-consulat/")
    assert "/staff/agenda/dakar-consulat/" in desk.url


def test_the_api_docs_render_for_a_member_of_staff(live_server, desk):
    desk.goto(live_server.url + "/api/docs/")
    # Swagger UI ran (its script is a file of its own) and read the whole schema.
    desk.locator(".opblock").first.wait_for()
    text = desk.locator("#swagger-ui").inner_text()
    assert "/api/v1/files/" in text
    assert "/api/v1/bookings/" in text


def test_the_api_docs_show_anyone_else_the_public_part(live_server, page):
    page.goto(live_server.url + "/api/docs/")
    page.locator(".opblock").first.wait_for()
    text = page.locator("#swagger-ui").inner_text()
    assert "/api/v1/bookings/" in text
    assert "/api/v1/files/" not in text


def test_the_admin_login_page_loads_under_the_policy(live_server, new_page):
    page = new_page(DESKTOP)
    response = page.goto(live_server.url + "/admin/login/")
    assert response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.get_by_label("Nom d’utilisateur").wait_for()


def test_the_periodic_task_form_shows_the_crontab_in_words(live_server, new_page):
    """django-celery-beat's form, whose inline script is replaced by a static file."""
    schedule = CrontabSchedule.objects.create(minute="30", hour="7", timezone="Africa/Bamako")
    client = Client()
    log_in(client, User.objects.create_superuser("root", password="pw-demo-123"))
    page = new_page(DESKTOP)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(live_server.url + "/admin/django_celery_beat/periodictask/add/")
    crontab = page.locator("#id_crontab")
    crontab.select_option(value=str(schedule.pk))
    assert "Translation: At 07:30" in page.locator(".field-crontab .help").inner_text()
