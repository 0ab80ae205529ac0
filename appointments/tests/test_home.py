"""The public home page: offices by kind, their local time, French first, bounded queries."""

from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.tests.factories import (
    CentreOfficeFactory,
    OfficeFactory,
    SlotFactory,
    paris_consulate,
)
from core.models import Office

pytestmark = pytest.mark.django_db


@pytest.fixture
def offices():
    offices = {
        "bamako": CentreOfficeFactory(
            code="bko-centre", name="Centre de Bamako", name_en="Bamako centre", city="Bamako"
        ),
        "paris": paris_consulate(),
        "washington": OfficeFactory(
            code="washington-ambassade",
            name="Ambassade du Mali à Washington",
            city="Washington",
            country="US",
            timezone=ZoneInfo("America/New_York"),
        ),
    }
    for office in offices.values():
        SlotFactory(office=office)
    return offices


def _section(html: str, heading: str) -> str:
    start = html.index(heading)
    end = html.find("</section>", start)
    return html[start:end]


def test_the_home_page_is_in_french_by_default(client, offices):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "Centres de production au Mali" in html
    assert "Ambassades et consulats à l’étranger" in html
    assert "Réservation Premium ouverte" in html
    centres = _section(html, "Centres de production au Mali")
    missions = _section(html, "Ambassades et consulats à l’étranger")
    assert "Centre de Bamako" in centres
    assert "Paris" not in centres
    assert "Consulat général du Mali à Paris" in missions
    assert "Bamako" not in missions


def test_the_home_page_in_english(client, offices):
    response = client.get("/en/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "Production centres in Mali" in html
    assert "Embassies and consulates abroad" in html
    assert "Premium booking open" in html
    assert "Consulate General of Mali in Paris" in html
    assert "Centres de production au Mali" not in html


def test_the_language_switch_links_to_the_same_page_in_the_other_language(client, offices):
    french = client.get("/").content.decode()
    english = client.get("/en/").content.decode()
    assert 'href="/en/" hreflang="en" lang="en">English</a>' in french
    assert 'href="/" hreflang="fr" lang="fr">Français</a>' in english
    assert 'hreflang="fr" lang="fr" aria-current="true">Français' in french


def test_each_office_shows_its_own_local_time_and_timezone(client, offices, freeze):
    freeze("2026-01-15T12:00:00Z")  # winter: Paris is UTC+1, New York UTC-5
    html = client.get("/").content.decode()
    assert "12:00</time> <span" not in html  # times are never shown without their zone
    assert _normalised(_office(html, "bko-centre")).count("jeudi 15 janvier, 12:00") == 1
    assert "(Africa/Bamako, UTC)" in _office(html, "bko-centre")
    assert "jeudi 15 janvier, 13:00" in _normalised(_office(html, "paris-consulat"))
    assert "(Europe/Paris, UTC+1)" in _office(html, "paris-consulat")
    assert "jeudi 15 janvier, 07:00" in _normalised(_office(html, "washington-ambassade"))
    assert "(America/New_York, UTC-5)" in _office(html, "washington-ambassade")


def test_local_times_follow_daylight_saving_time(client, offices, freeze):
    freeze("2026-07-15T12:00:00Z")  # summer: Paris is UTC+2, New York UTC-4
    html = client.get("/").content.decode()
    assert "14:00" in _office(html, "paris-consulat")
    assert "(Europe/Paris, UTC+2)" in _office(html, "paris-consulat")
    assert "08:00" in _office(html, "washington-ambassade")
    assert "(America/New_York, UTC-4)" in _office(html, "washington-ambassade")


def test_an_office_without_free_slots_or_suspended_is_shown_closed(client, offices):
    from django.utils import timezone

    from appointments.models import Slot, Suspension

    Slot.objects.filter(office=offices["bamako"]).update(is_open=False)
    suspension = Suspension.objects.create(
        starts_at=timezone.now(), message="Service suspendu", message_en="Suspended"
    )
    suspension.offices.add(offices["washington"])
    html = client.get("/").content.decode()
    assert "Réservation Premium fermée" in _office(html, "bko-centre")
    assert "Réservation Premium fermée" in _office(html, "washington-ambassade")
    assert "Réservation Premium ouverte" in _office(html, "paris-consulat")


def test_inactive_offices_are_not_listed(client, offices):
    offices["washington"].active = False
    offices["washington"].save(update_fields=["active"])
    html = client.get("/").content.decode()
    assert "Washington" not in html
    assert "Paris" in html


def test_the_query_count_does_not_grow_with_the_number_of_offices(client, offices):
    with CaptureQueriesContext(connection) as few:
        assert client.get("/").status_code == 200
    for n in range(40):
        SlotFactory(office=OfficeFactory(code=f"mission-{n}", kind=Office.Kind.MISSION))
        CentreOfficeFactory(code=f"centre-{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/")
    assert response.content.decode().count('class="office"') == 83
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 2


def _office(html: str, code: str) -> str:
    start = html.index(f'id="office-{code}"')
    return html[start : html.index("</li>", start)]


def _normalised(fragment: str) -> str:
    return " ".join(fragment.split())


def test_during_a_suspension_each_office_shows_its_message_and_reopening(client, offices, freeze):
    """As /statut/ shows them, from the same template: the message, and the reopening to the
    minute in each office's own time."""
    from datetime import UTC, datetime

    from appointments.models import Suspension

    freeze("2026-01-15T12:00:00Z")  # winter: Paris is UTC+1, New York UTC-5
    suspension = Suspension.objects.create(
        starts_at=datetime(2026, 1, 15, 11, 0, tzinfo=UTC),
        reopens_at=datetime(2026, 1, 19, 7, 30, tzinfo=UTC),
        message="Le service reprend lundi.",
        message_en="The service resumes on Monday.",
    )
    suspension.offices.add(offices["paris"], offices["washington"])

    html = client.get("/").content.decode()
    paris = _normalised(_office(html, "paris-consulat"))
    assert "Réservation Premium fermée" in paris
    assert "Le service reprend lundi." in paris
    assert "Réouverture prévue le lundi 19 janvier 2026, 08:30" in paris
    assert "(Europe/Paris, UTC+1)" in paris
    washington = _normalised(_office(html, "washington-ambassade"))
    assert "Réouverture prévue le lundi 19 janvier 2026, 02:30" in washington
    assert "(America/New_York, UTC-5)" in washington
    bamako = _normalised(_office(html, "bko-centre"))
    assert "Réservation Premium ouverte" in bamako
    assert "Le service reprend lundi." not in bamako

    english = _normalised(_office(client.get("/en/").content.decode(), "paris-consulat"))
    assert "The service resumes on Monday." in english
    assert "Reopening planned on Monday 19 January 2026, 08:30" in english

    # The status page says the same, from the same fragment.
    status = client.get("/statut/").content.decode()
    assert _suspension(_office(status, "paris-consulat")) == _suspension(
        _office(html, "paris-consulat")
    )

    # Without a reopening date, it says so.
    Suspension.objects.filter(pk=suspension.pk).update(reopens_at=None)
    later = client.get("/").content.decode()
    assert "La date de réouverture n’est pas encore fixée." in _office(later, "paris-consulat")


def _suspension(fragment: str) -> str:
    start = fragment.index('<div class="office-suspension">')
    return _normalised(fragment[start : fragment.index("</div>", start)])
