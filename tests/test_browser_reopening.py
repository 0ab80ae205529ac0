"""The suspension and the reopening in a real browser: an administrator suspends the service
from the workspace; the applicant's office page shows the message; the administrator sets
the reopening a few seconds ahead; booking opens by itself; the dispatcher runs and the
backlog on the dashboard falls."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from appointments.tests.factories import slot_at
from core.services import staff_upsert
from production import backlog
from production.models import FileStatus
from production.tests.factories import CentreFactory, PassportFileFactory
from tests.browser import DESKTOP
from tests.support import TEST_TOTP_SECRET, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _bamako_time(moment: datetime, seconds: bool = False) -> str:
    pattern = "%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%dT%H:%M"
    return moment.astimezone(UTC).strftime(pattern)  # Africa/Bamako is UTC


def _backlog(page, code: str) -> int:
    row = page.locator(".backlog-summary tr", has_text=code)
    return int(row.locator("td.number").first.inner_text())


def test_suspend_reopen_and_watch_the_backlog_fall(live_server, page, new_page, settings):
    settings.BOOKING_CHALLENGE = False
    bamako = CentreFactory(office__code="bko-centre", office__name="Centre de Bamako")
    bamako.daily_capacity = 4
    bamako.save(update_fields=["daily_capacity"])
    slot_at(bamako.office, 10, capacity=2)
    PassportFileFactory.create_batch(
        10, centre=bamako, office=bamako.office, status=FileStatus.QUEUED
    )
    staff_upsert(
        username="ministere",
        password="pw-demo-123",
        role="admin",
        office_codes=[],
        totp_secret=TEST_TOTP_SECRET,
    )
    base = live_server.url

    admin = new_page(DESKTOP)
    admin.goto(base + "/staff/connexion/")
    admin.get_by_label("Identifiant").fill("ministere")
    admin.get_by_label("Mot de passe").fill("pw-demo-123")
    admin.get_by_label("Code de vérification").fill(totp_code())
    admin.get_by_role("button", name="Se connecter").click()
    admin.wait_for_load_state()
    admin.get_by_role("link", name="Suspensions").click()
    admin.get_by_label("Début (heure de Bamako)").fill(
        _bamako_time(timezone.now() - timedelta(hours=1))
    )
    admin.get_by_label("Message public en français").fill("Service suspendu pour maintenance.")
    admin.get_by_role("button", name="Suspendre").click()
    assert "Suspension enregistrée." in admin.locator(".messages").inner_text()

    # The applicant sees the message and no day to book.
    page.goto(base + "/bureaux/bko-centre/")
    assert "Service suspendu pour maintenance." in page.content()
    assert page.locator("table.month a.free").count() == 0
    # The waiting files are on hold: the backlog is all there.
    admin.goto(base + "/staff/backlog/")
    assert _backlog(admin, "Centre de Bamako") == 10

    # The reopening, a few seconds ahead.
    admin.goto(base + "/staff/suspensions/")
    reopening = (timezone.now() + timedelta(seconds=8)).replace(microsecond=0)
    admin.locator("tr[id^=suspension-] input[name=reopens_at]").fill(
        _bamako_time(reopening, seconds=True)
    )
    admin.get_by_role("button", name="Fixer la réouverture").click()
    assert "Réouverture mise à jour." in admin.locator(".messages").inner_text()
    page.reload()
    assert "Réouverture prévue le" in page.content()

    # Nobody acts: at the reopening, booking is open.
    time.sleep(max((reopening - timezone.now()).total_seconds(), 0) + 0.5)
    page.reload()
    assert "Service suspendu pour maintenance." not in page.content()
    assert page.locator("table.month a.free").count() == 1

    # The dispatcher runs (beat every 5 minutes): the files are released and the day's
    # batch takes what the centre can produce; the backlog falls.
    run = backlog.backlog_run()
    assert (run.released, run.dispatched["bko-centre"]) == (10, 4)
    admin.goto(base + "/staff/backlog/")
    assert _backlog(admin, "Centre de Bamako") == 6
