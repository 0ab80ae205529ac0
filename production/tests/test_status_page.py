"""The public status page /statut/: each office open or suspended (the suspension in force
now, its message and the reopening in the office's own time), aggregate production figures
only, French first, bounded queries."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Slot, Suspension
from appointments.selectors import suspension_at
from appointments.tests.factories import (
    CentreOfficeFactory,
    OfficeFactory,
    SlotFactory,
    member,
)
from consulates.tests.factories import MissionFactory
from core.models import Office
from production import selectors, services
from production.models import FileStatus
from production.tests.factories import CentreFactory, PassportFileFactory

pytestmark = pytest.mark.django_db

BAMAKO = ZoneInfo("Africa/Bamako")
UTC = ZoneInfo("UTC")
# The reopening after the suspension of November 2025: Monday 24 at 07:30 in Bamako.
REOPENS_AT = datetime(2025, 11, 24, 7, 30, tzinfo=BAMAKO)


@pytest.fixture
def washington(bamako):
    """The embassy in Washington (America/New_York), produced by Bamako."""
    return MissionFactory(
        office=OfficeFactory(
            code="washington-ambassade",
            name="Ambassade du Mali à Washington",
            name_en="Embassy of Mali in Washington",
            city="Washington",
            country="US",
            timezone=ZoneInfo("America/New_York"),
        ),
        centre=bamako,
    )


@pytest.fixture
def offices(bamako, paris, washington):
    """Bamako, Paris and Washington, each with a free slot."""
    offices = {"bamako": bamako.office, "paris": paris.office, "washington": washington.office}
    for office in offices.values():
        SlotFactory(office=office)
    return offices


def suspend(*offices: Office, starts_at=None, reopens_at="in 3 days", **fields) -> Suspension:
    """A suspension of these offices (of every office when none is given), begun an hour
    ago unless `starts_at` says otherwise, reopening in three days unless `reopens_at` does."""
    now = timezone.now()
    if reopens_at == "in 3 days":
        reopens_at = now + timedelta(days=3)
    suspension = Suspension.objects.create(
        starts_at=starts_at or now - timedelta(hours=1),
        reopens_at=reopens_at,
        message=fields.pop("message", "Le service Premium est suspendu."),
        message_en=fields.pop("message_en", "The Premium service is suspended."),
        **fields,
    )
    suspension.offices.set(offices)
    return suspension


def test_the_status_page_lists_centres_then_missions_in_french(client, offices):
    response = client.get("/statut/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "<h1>État du service Premium</h1>" in html
    assert "<script" not in html  # a plain page for slow mobile data
    centres = _section(html, "Centres de production au Mali")
    missions = _section(html, "Ambassades et consulats à l’étranger")
    assert 'id="office-bko-centre"' in centres
    assert "office-paris" not in centres
    assert 'id="office-paris-consulat"' in missions
    assert 'id="office-washington-ambassade"' in missions
    for code in ["bko-centre", "paris-consulat", "washington-ambassade"]:
        assert "Service Premium ouvert" in _office(html, code)
        assert "suspendu" not in _office(html, code)
        assert 'href="/bureaux/' + code + '/"' in _office(html, code)


def test_each_office_shows_its_local_time_with_its_zone(client, offices, freeze):
    freeze("2026-01-15T12:00:00Z")  # winter: Paris is UTC+1, New York UTC-5
    html = client.get("/statut/").content.decode()
    assert "jeudi 15 janvier, 12:00" in _text(_office(html, "bko-centre"))
    assert "(Africa/Bamako, UTC)" in _office(html, "bko-centre")
    assert "jeudi 15 janvier, 13:00" in _text(_office(html, "paris-consulat"))
    assert "(Europe/Paris, UTC+1)" in _office(html, "paris-consulat")
    assert "jeudi 15 janvier, 07:00" in _text(_office(html, "washington-ambassade"))
    assert "(America/New_York, UTC-5)" in _office(html, "washington-ambassade")


def test_a_suspension_of_every_office_with_the_reopening_in_each_local_time(
    client, offices, freeze
):
    freeze("2025-11-20T12:00:00Z")
    suspend(message="Suspension du service Premium jusqu’au 24 novembre.", reopens_at=REOPENS_AT)
    html = client.get("/statut/").content.decode()
    for code in ["bko-centre", "paris-consulat", "washington-ambassade"]:
        office = _text(_office(html, code))
        assert "Service Premium suspendu" in office
        assert "Service Premium ouvert" not in office
        assert "Suspension du service Premium jusqu’au 24 novembre." in office
    # 07:30 in Bamako (UTC) is 08:30 in Paris (UTC+1) and 02:30 in Washington (UTC-5).
    assert "Réouverture prévue le lundi 24 novembre 2025, 07:30 (Africa/Bamako, UTC)" in _text(
        _office(html, "bko-centre")
    )
    assert "Réouverture prévue le lundi 24 novembre 2025, 08:30 (Europe/Paris, UTC+1)" in _text(
        _office(html, "paris-consulat")
    )
    assert (
        "Réouverture prévue le lundi 24 novembre 2025, 02:30 (America/New_York, UTC-5)"
        in _text(_office(html, "washington-ambassade"))
    )


def test_a_suspension_of_one_office_leaves_the_others_open(client, offices):
    suspend(offices["washington"], message="Travaux à l’ambassade.")
    html = client.get("/statut/").content.decode()
    assert "Service Premium suspendu" in _office(html, "washington-ambassade")
    assert "Travaux à l’ambassade." in _office(html, "washington-ambassade")
    for code in ["bko-centre", "paris-consulat"]:
        assert "Service Premium ouvert" in _office(html, code)
        assert "Travaux" not in _office(html, code)


def test_a_suspension_that_has_ended_or_not_begun_leaves_the_offices_open(client, offices):
    now = timezone.now()
    suspend(starts_at=now - timedelta(days=10), reopens_at=now - timedelta(days=1))
    suspend(starts_at=now + timedelta(days=1), reopens_at=now + timedelta(days=3))
    html = client.get("/statut/").content.decode()
    assert html.count("Service Premium ouvert") == 3
    assert "Service Premium suspendu" not in html


def test_a_suspension_without_a_reopening_date_says_so(client, offices):
    suspend(offices["paris"], reopens_at=None)
    html = client.get("/statut/").content.decode()
    paris = _text(_office(html, "paris-consulat"))
    assert "Service Premium suspendu" in paris
    assert "La date de réouverture n’est pas encore fixée." in paris
    assert "Réouverture prévue" not in paris


def test_an_open_office_without_a_free_slot_says_so(client, offices):
    Slot.objects.filter(office=offices["paris"]).update(is_open=False)
    html = client.get("/statut/").content.decode()
    assert "Service Premium ouvert" in _office(html, "paris-consulat")
    assert "Aucun horaire libre pour le moment." in _office(html, "paris-consulat")
    assert "Aucun horaire libre" not in _office(html, "bko-centre")


def test_the_status_page_in_english(client, offices, freeze):
    freeze("2025-11-20T12:00:00Z")
    suspend(
        offices["washington"],
        message="Service suspendu.",
        message_en="The Premium service is suspended until Monday.",
        reopens_at=REOPENS_AT,
    )
    response = client.get("/en/statut/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "<h1>Premium service status</h1>" in html
    assert "Production centres in Mali" in html
    assert "Embassy of Mali in Washington" in html
    washington = _text(_office(html, "washington-ambassade"))
    assert "Premium service suspended" in washington
    assert "The Premium service is suspended until Monday." in washington
    assert "Service suspendu." not in washington
    assert "Reopening planned on Monday 24 November 2025, 02:30" in washington
    assert "Premium service open" in _office(html, "paris-consulat")
    assert "Files waiting" in html
    assert "Passports produced this week" in html
    assert "Dossiers en attente" not in html


def test_the_language_switch_and_the_links_to_the_status_page(client, offices):
    french = client.get("/statut/").content.decode()
    english = client.get("/en/statut/").content.decode()
    assert 'href="/en/statut/" hreflang="en" lang="en">English</a>' in french
    assert 'href="/statut/" hreflang="fr" lang="fr">Français</a>' in english
    # From the home page (near the top) and from the footer of every page.
    home = client.get("/").content.decode()
    assert home.index('href="/statut/"') < home.index('class="office-group"')
    assert '<footer class="site-footer">' in french
    assert 'href="/statut/"' in french[french.index('<footer class="site-footer">') :]
    assert 'href="/en/statut/"' in client.get("/en/").content.decode()


def test_inactive_offices_are_not_listed(client, offices):
    offices["washington"].active = False
    offices["washington"].save(update_fields=["active"])
    html = client.get("/statut/").content.decode()
    assert "Washington" not in html
    assert 'id="office-paris-consulat"' in html


@pytest.mark.parametrize(
    "scopes",
    [
        [],
        [("all", 3)],
        [("washington", 3)],
        [("all", None), ("paris", 2)],
        [("all", 2), ("paris", 5), ("paris", None)],
        [("bamako", 2), ("bamako", 2)],
    ],
    ids=["none", "all", "one", "all-undated", "overlapping", "tie"],
)
def test_the_suspension_shown_is_the_one_suspension_at_names(offices, scopes):
    """The page reads every suspension in force in one query (not suspension_at() for each
    office); for every office it names the same one as appointments.selectors does."""
    now = timezone.now()
    for scope, days in scopes:
        reopens_at = now + timedelta(days=days) if days else None
        suspend(*([] if scope == "all" else [offices[scope]]), reopens_at=reopens_at)
    shown = {
        status.office.code: status.suspension
        for statuses in selectors.public_status(now=now).values()
        for status in statuses
    }
    assert len(shown) == 3
    for office in offices.values():
        assert shown[office.code] == suspension_at(office=office, at=now)


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


def _section(html: str, heading: str) -> str:
    start = html.index(heading)
    return html[start : html.find("</section>", start)]


def _office(html: str, code: str) -> str:
    start = html.index(f'id="office-{code}"')
    return html[start : html.index("</li>", start)]


def _text(fragment: str) -> str:
    """The words of a fragment of HTML, tags removed and spaces normalised."""
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split()).replace(" )", ")")


def _figures(html: str, code: str) -> list[str]:
    """The figures of an office in order: waiting, average wait (days), produced this week."""
    values = re.findall(r"<dd>(.*?)</dd>", _office(html, code), re.S)
    return [re.sub(r'<span class="visually-hidden">.*?</span>|<[^>]+>', "", v) for v in values]
