"""The production figures of the public status page /statut/: for each centre and mission
the files waiting, their average wait and the passports produced this week (the office's own
week), aggregate figures only, and a number of queries that does not grow with the offices,
suspensions or files."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.tests.factories import CentreOfficeFactory, SlotFactory, member
from consulates.tests.factories import MissionFactory
from core.models import Office
from production import selectors, services
from production.models import FileStatus
from production.tests.factories import CentreFactory, PassportFileFactory
from production.tests.status_page_support import REOPENS_AT, _office, suspend

pytestmark = pytest.mark.django_db


UTC = ZoneInfo("UTC")


# Figures ----------------------------------------------------------------------------------

# Monday 24 November 2025, 03:00 UTC: Monday 00:00 began at 00:00 UTC in Bamako, at 23:00
# UTC the day before in Paris (UTC+1), and a week ago at 05:00 UTC in Washington (UTC-5),
# where it is still Sunday evening.
NOW = datetime(2025, 11, 24, 3, 0, tzinfo=UTC)


@pytest.fixture
def figures_world(offices, freeze):
    """Files of Bamako, Paris and Washington at known times; the clock at NOW."""
    admin = member("admin")
    bamako, paris, washington = offices["bamako"], offices["paris"], offices["washington"]
    centre = bamako.centre

    def file(office, status, created):
        freeze(created)
        return PassportFileFactory(office=office, centre=centre, status=status)

    def passes_quality_control(office, at, to):
        checked = file(office, FileStatus.QUALITY_CHECK, at - timedelta(days=20))
        freeze(at)
        services.file_transition(
            file=checked, to=to, expected=checked.status, by=admin, via_pouch=to == "in_transit"
        )
        return checked

    # Waiting: two files of Bamako (4 and 2 days), one of Paris (10 days).
    file(bamako, FileStatus.QUEUED, NOW - timedelta(days=4))
    file(bamako, FileStatus.ENROLLED, NOW - timedelta(days=2))
    file(paris, FileStatus.ON_HOLD, NOW - timedelta(days=10))
    # Not waiting.
    for status in [FileStatus.IN_PRODUCTION, FileStatus.QUALITY_CHECK, FileStatus.DELIVERED]:
        file(washington, status, NOW - timedelta(days=30))
    file(bamako, FileStatus.REJECTED, NOW - timedelta(days=30))
    # Produced (passed quality control).
    sunday_night = datetime(2025, 11, 23, 23, 30, tzinfo=UTC)
    passes_quality_control(bamako, sunday_night, FileStatus.READY)  # last week in Bamako
    passes_quality_control(bamako, NOW - timedelta(hours=2), FileStatus.READY)  # this week
    to_paris = passes_quality_control(paris, sunday_night, FileStatus.IN_TRANSIT)
    freeze(NOW - timedelta(hours=1))  # arrives at Paris: not produced a second time
    services.file_transition(
        file=to_paris, to=FileStatus.READY, expected=None, by=admin, via_pouch=True
    )
    passes_quality_control(washington, datetime(2025, 11, 19, 12, tzinfo=UTC), "in_transit")
    passes_quality_control(washington, NOW - timedelta(hours=1), FileStatus.IN_TRANSIT)
    # Before Monday 00:00 in Washington (05:00 UTC a week ago): last week everywhere.
    passes_quality_control(washington, datetime(2025, 11, 17, 4, tzinfo=UTC), "in_transit")
    # A file that failed its first check counts when it passes, not before.
    again = file(bamako, FileStatus.QUALITY_CHECK, NOW - timedelta(days=6))
    freeze(NOW - timedelta(minutes=50))
    services.file_transition(file=again, to="in_production", expected=None, by=admin)
    services.file_transition(file=again, to="quality_check", expected=None, by=admin)
    services.file_transition(file=again, to="ready", expected=None, by=admin)
    freeze(NOW)
    return offices


def test_the_figures_of_each_centre_and_mission(figures_world):
    figures = selectors.production_figures(now=NOW)
    bamako, paris, washington = (
        figures_world[name].pk for name in ["bamako", "paris", "washington"]
    )
    # Bamako produces for itself and for its missions: 3 files waiting 4, 2 and 10 days;
    # produced this week (since 00:00 UTC): its two files of this morning, and Washington's.
    assert figures[bamako].waiting == 3
    assert figures[bamako].average_wait_days == pytest.approx(16 / 3)
    assert figures[bamako].produced_this_week == 3
    # Paris: its file on hold; its pouch left at 23:30 UTC on Sunday, 00:30 in Paris.
    assert figures[paris].waiting == 1
    assert figures[paris].average_wait_days == pytest.approx(10)
    assert figures[paris].produced_this_week == 1
    # Washington: nothing waits; its week began on Monday 17 at 05:00 UTC.
    assert figures[washington].waiting == 0
    assert figures[washington].average_wait_days is None
    assert figures[washington].produced_this_week == 2


def test_the_page_shows_the_figures(client, figures_world):
    html = client.get("/statut/").content.decode()
    assert _figures(html, "bko-centre") == ["3", "5,3", "3"]
    assert _figures(html, "paris-consulat") == ["1", "10,0", "1"]
    assert _figures(html, "washington-ambassade") == ["0", "–", "2"]
    assert "aucun dossier en attente" in _office(html, "washington-ambassade")  # read aloud
    english = client.get("/en/statut/").content.decode()
    assert _figures(english, "bko-centre") == ["3", "5.3", "3"]


def test_no_file_or_applicant_data_appears_on_the_page(client, offices):
    files = [
        PassportFileFactory(
            office=office,
            centre=offices["bamako"].centre,
            status=status,
            surname=f"ZEPHYRIN{n}",
            given_names=f"Oumou{n}",
            national_id=f"NINA7777777{n:04d}",
        )
        for n, (office, status) in enumerate(
            (office, status)
            for office in offices.values()
            for status in [FileStatus.ENROLLED, FileStatus.QUEUED, FileStatus.ON_HOLD]
        )
    ]
    for path in ["/statut/", "/en/statut/"]:
        html = client.get(path).content.decode()
        assert _figures(html, "bko-centre")[0] == "9"
        for file in files:
            for secret in [file.reference, file.surname, file.given_names, file.national_id]:
                assert secret not in html
        assert "ZEPHYRIN" not in html
        assert "NINA7777777" not in html


def test_the_query_count_does_not_grow_with_offices_suspensions_or_files(client, figures_world):
    with CaptureQueriesContext(connection) as few:
        assert client.get("/statut/").status_code == 200
    admin = member("admin")
    for n in range(15):
        centre = CentreFactory(office=CentreOfficeFactory(code=f"centre-{n}"))
        mission = MissionFactory(office__code=f"mission-{n}", centre=centre)
        SlotFactory(office=mission.office)
        suspend(mission.office, reopens_at=None if n % 2 else REOPENS_AT)
        for office in [centre.office, mission.office]:
            PassportFileFactory(office=office, centre=centre, status=FileStatus.QUEUED)
            checked = PassportFileFactory(
                office=office, centre=centre, status=FileStatus.QUALITY_CHECK
            )
            to = FileStatus.READY if office.kind == Office.Kind.CENTRE else "in_transit"
            services.file_transition(
                file=checked, to=to, expected=None, by=admin, via_pouch=to == "in_transit"
            )
    suspend()
    with CaptureQueriesContext(connection) as many:
        response = client.get("/statut/")
    html = response.content.decode()
    assert html.count('class="office"') == 33
    assert html.count("Service Premium suspendu") == 33
    assert _figures(html, "mission-3") == ["1", "0,0", "1"]
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 4


def _figures(html: str, code: str) -> list[str]:
    """The figures of an office in order: waiting, average wait (days), produced this week."""
    values = re.findall(r"<dd>(.*?)</dd>", _office(html, code), re.S)
    return [re.sub(r'<span class="visually-hidden">.*?</span>|<[^>]+>', "", v) for v in values]
