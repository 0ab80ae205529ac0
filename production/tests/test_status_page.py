"""The public status page /statut/: each office open or suspended (the suspension in force
now, its message and the reopening in the office's own time), French first, in English too.
The production figures it shows are tested in test_status_figures.py."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Slot
from appointments.selectors import suspension_at
from production import selectors
from production.tests.status_page_support import REOPENS_AT, _office, suspend

pytestmark = pytest.mark.django_db


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


def _section(html: str, heading: str) -> str:
    start = html.index(heading)
    return html[start : html.find("</section>", start)]


def _text(fragment: str) -> str:
    """The words of a fragment of HTML, tags removed and spaces normalised."""
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split()).replace(" )", ")")
