"""The staff pages on a supervisor's phone (390x844) and at a desk, with the demo's data: no
page scrolls sideways; the backlog dashboard shows every office's clearing date on its first
screen, before any table, and stays a few screens tall (the per-office figures open on
demand)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from appointments.models import Slot, Suspension, WaitingLine
from appointments.tests.factories import book
from core.models import Office
from demo.seed import seed
from demo.staff import ADMIN_USERNAME
from tests.browser import DESKTOP, PHONE
from tests.support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_HEIGHT = 3_000  # at most, in CSS pixels: the dashboard of the demo's 7 offices


@pytest.fixture
def demo():
    """The demo's data, with an appointment at Bamako and a waiting line that reopened an
    hour ago (shown on the dashboard for a day)."""
    seed()
    bamako = Office.objects.get(code="bko-centre")
    slot = Slot.objects.filter(office=bamako, starts_at__gt=timezone.now()).earliest("starts_at")
    appointment, _token = book(slot=slot)
    now = timezone.now()
    suspension = Suspension.objects.create(
        starts_at=now - timedelta(days=2),
        reopens_at=now - timedelta(hours=1),
        message="Maintenance",
    )
    WaitingLine.objects.create(office=bamako, suspension=suspension, rate=2)
    return {"appointment": appointment, "day": slot.starts_at.astimezone(bamako.timezone)}


@pytest.fixture
def admin_page(live_server, new_page):
    """A page of the demo's administrator (logged in, second factor included)."""

    def open_page(viewport):
        client = Client()
        log_in(client, get_user_model().objects.get(username=ADMIN_USERNAME))
        page = new_page(viewport)
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        return page

    return open_page


# The page's size, and what sticks out on the right (to say what to mend when it fails).
SIZE = """() => ({
  width: document.documentElement.scrollWidth,
  viewport: window.innerWidth,
  height: document.documentElement.scrollHeight,
  over: [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id}`),
})"""


def visit(page, url: str) -> dict:
    response = page.goto(url)
    assert response.status == 200, url
    return page.evaluate(SIZE)


def test_the_dashboard_shows_the_clearing_dates_first_on_a_phone(live_server, demo, admin_page):
    page = admin_page(PHONE)
    size = visit(page, live_server.url + "/staff/backlog/")

    assert size["width"] <= size["viewport"], size
    assert size["height"] < PHONE_HEIGHT, size
    dates = page.locator(".backlog-summary .clear-date time")
    assert dates.count() == Office.objects.count()  # every office has its date
    first = dates.first.bounding_box()
    assert first["y"] + first["height"] <= PHONE["height"]  # on the first screen
    # The tables by status wait, closed, until asked for.
    assert page.locator("table.backlog-statuses").count() == Office.objects.count()
    assert not page.locator("table.backlog-statuses").first.is_visible()
    assert page.locator(".waiting-lines").is_visible()

    # The summary's link opens that office's figures, still within the screen's width.
    page.get_by_role("link", name="Centre de production des passeports de Bamako").click()
    page.wait_for_load_state()
    assert page.locator("#backlog-bko-centre table.backlog-statuses").is_visible()
    assert page.locator("#backlog-bko-centre svg").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_staff_page_scrolls_sideways(live_server, demo, admin_page, viewport):
    page = admin_page(viewport)
    reference = demo["appointment"].reference
    for path, shows in [
        ("/staff/backlog/", "Résorption prévue"),
        (f"/staff/agenda/bko-centre/?date={demo['day']:%Y-%m-%d}", reference),
        (f"/staff/accueil/?q={reference}", reference),
        ("/staff/dossiers/", "DDEMO-"),
        ("/staff/dossiers/DDEMO-00001/", "DDEMO-00001"),
        ("/staff/suspensions/", "Maintenance"),
        ("/staff/valises/", "Valises diplomatiques"),
    ]:
        size = visit(page, live_server.url + path)
        assert shows in page.locator("main").inner_text(), path
        assert size["width"] <= size["viewport"], (path, size)
