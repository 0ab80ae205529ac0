"""Pictures for people: the main pages, with the demo's data, at a phone's size (390x844)
and a desktop's (1280x800), saved by every run of the suite under .data/screenshots/ (not in
git), whole pages, named `<width>-<page>.png`. The README shows a few of them, made small by
scripts/readme_pictures.py. Pages are reached by their addresses, not by clicking through,
so that the pictures follow whatever the pages become."""

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from appointments.models import Slot
from appointments.tests.factories import book
from demo.seed import seed
from production.models import FileStatus, PassportFile
from production.tracking import link_token
from tests.browser import PHONE
from tests.page_tour import staff_cookies

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / ".data" / "screenshots"
SIZES = {"phone": PHONE, "desktop": {"width": 1280, "height": 800}}
PNG = b"\x89PNG\r\n\x1a\n"


def main_pages() -> dict[str, str]:
    """page name -> address, in the demo's world: home, an office's month, a day's times
    with the booking form, the
    manage page of a booking, the tracking of a file in production, the service's status,
    and the backlog dashboard."""
    seed()
    slot = (
        Slot.objects.filter(office__code="paris-consulat", starts_at__gt=timezone.now())
        .order_by("starts_at")
        .first()
    )
    appointment, token = book(slot=slot)
    file = (
        PassportFile.objects.filter(status=FileStatus.IN_PRODUCTION, office__kind="mission")
        .order_by("reference")
        .first()
    )
    return {
        "home": "/",
        "office": "/bureaux/paris-consulat/",
        "booking": f"/bureaux/paris-consulat/jour/{slot.local_starts_at:%Y-%m-%d}/",
        "manage": f"/rendez-vous/{appointment.reference}/{token}/",
        "tracking": f"/suivi/lien/{link_token(file.reference)}/",
        "status": "/statut/",
        "dashboard": "/staff/backlog/",
    }


def test_the_main_pages_are_pictured_at_phone_and_desktop_sizes(live_server, new_page):
    from django.contrib.auth.models import User

    pages = main_pages()
    admin = staff_cookies(User.objects.get(username="admin"), live_server.url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for size, viewport in SIZES.items():
        for name, path in pages.items():
            page = new_page(viewport)
            if path.startswith("/staff/"):
                page.context.add_cookies(admin)
            response = page.goto(live_server.url + path, wait_until="networkidle")
            assert response.status == 200, f"{name}: {response.status} at {page.url}"
            assert "/staff/connexion/" not in page.url
            target = SCREENSHOTS / f"{size}-{name}.png"
            page.screenshot(path=target, full_page=True)
            written.append((target, viewport["width"]))
            page.context.close()

    for target, width in written:
        data = target.read_bytes()
        assert data[:8] == PNG, target
        # The picture covers the screen at least (PNG's IHDR: width, then height; wider when
        # the page scrolls sideways, which the tests of each page's layout look at).
        assert int.from_bytes(data[16:20], "big") >= width, target
        assert int.from_bytes(data[20:24], "big") >= SIZES["phone"]["height"] // 2, target
    print("\n".join(str(target) for target, _ in written))
