"""Every public page and the main staff pages in chromium, each in a browser of its own (an
empty cache): axe-core finds no serious or critical violation on any of them (the others
are printed), and every public page, with all it loads, weighs under 100 KB and comes from
the portal alone (an applicant on a phone's data plan pays for each byte, and a page that
calls another host leaks who visits it).

The pages are reached by their addresses, with data made by the factories and services, not
by clicking through: this tour does not depend on the layout of the pages it looks at."""

from datetime import date, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.services import suspension_create
from appointments.tests.factories import (
    OfficeFactory,
    bamako_centre,
    book,
    member,
    paris_consulate,
    slot_at,
)
from consulates.services import shipment_send
from consulates.tests.factories import MissionFactory
from core.services import staff_enrolment_code_issue
from production.backlog import backlog_snapshot_take
from production.models import FileEvent, FileStatus
from production.tests.factories import CentreFactory, PassportFileFactory, applicant_file
from production.tracking import link_token
from tests.browser import DESKTOP, PHONE
from tests.page_tour import BUDGET, report, send_the_form, staff_cookies, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BIRTH = {"birth_date": date(1990, 1, 1)}


def _suspend(office, *, starts_in: timedelta, reopens_in: timedelta, message: str) -> None:
    """Suspend the service at `office` as an administrator does (appointments displaced,
    files held, its waiting room opened before the reopening)."""
    now = timezone.now()
    suspension_create(
        by=member("admin"),
        starts_at=now + starts_in,
        reopens_at=now + reopens_in,
        office_codes=[office.code],
        message_fr=message,
        message_en="The Premium service is suspended; it reopens at the announced time.",
    )


def _suspended_with_a_waiting_room():
    """Dakar, suspended, reopening in ten minutes: its waiting room is open."""
    dakar = OfficeFactory(
        code="dakar-consulat",
        name="Consulat général du Mali à Dakar",
        city="Dakar",
        country="SN",
        timezone=ZoneInfo("Africa/Dakar"),
    )
    slot_at(dakar, 10, 0, days=2)
    _suspend(
        dakar,
        starts_in=-timedelta(days=2),
        reopens_in=timedelta(minutes=10),
        message="Service suspendu pendant la mise à jour du système.",
    )
    return dakar


def public_pages(settings) -> list[tuple[str, str, object, set[int]]]:
    """(name, address, what to do on it, the statuses it may answer) of every public page."""
    paris = paris_consulate()
    centre = CentreFactory(office=bamako_centre(code="bko-centre"))
    slots = [slot_at(paris, 9, 30, days=2), slot_at(paris, 10, 0, days=2)]
    slot_at(paris, 11, 15, days=3)
    day = slots[0].starts_at.astimezone(paris.timezone).date().isoformat()
    booked, token = book(slot=slots[0])
    manage = f"/rendez-vous/{booked.reference}/{token}/"
    settings.BOOKING_VERIFY_CONTACT = True
    held, held_token = book(slot=slots[1], national_id="NINA00000000777")
    settings.BOOKING_VERIFY_CONTACT = False
    held_page = f"/rendez-vous/{held.reference}/{held_token}/"
    file = PassportFileFactory(centre=centre, status=FileStatus.READY, **BIRTH)
    for before, after in [("", "enrolled"), ("enrolled", "queued"), ("quality_check", "ready")]:
        FileEvent.objects.create(file=file, from_status=before, to_status=after)
    dakar = _suspended_with_a_waiting_room()
    form = f"/bureaux/{paris.code}/creneau/{slots[0].pk}/"
    ok, ok_or_refused = {200}, {200, 400}
    return [
        ("home", "/", None, ok),
        ("home, English", "/en/", None, ok),
        ("office", f"/bureaux/{paris.code}/", None, ok),
        ("day", f"/bureaux/{paris.code}/jour/{day}/", None, ok),
        ("booking form", form, None, ok),
        ("booking form, sent empty", form, send_the_form, ok_or_refused),
        ("booking form, English", "/en" + form, None, ok),
        ("code page", held_page + "confirmer/", None, ok),
        ("code page, sent empty", held_page + "confirmer/", send_the_form, ok_or_refused),
        ("manage page of a held seat", held_page, None, ok),
        ("manage page", manage, None, ok),
        ("manage: cancel", manage + "annuler/", None, ok),
        ("manage: messages", manage + "messages/", None, ok),
        ("manage: move", manage + "deplacer/", None, ok),
        ("tracking", "/suivi/", None, ok),
        ("tracking, sent empty", "/suivi/", send_the_form, ok_or_refused),
        ("tracking result of a file", f"/suivi/lien/{link_token(file.reference)}/", None, ok),
        ("tracking result, appointment", f"/suivi/lien/{link_token(booked.reference)}/", None, ok),
        ("tracking link", "/suivi/lien/", None, ok),
        ("tracking link, sent", "/suivi/lien/", _ask_for_a_link(booked.reference), ok),
        ("tracking link, expired", "/suivi/lien/not-a-link/", None, {404}),
        ("status", "/statut/", None, ok),
        ("status, English", "/en/statut/", None, ok),
        ("waiting room", f"/bureaux/{dakar.code}/salle-d-attente/", None, ok),
        ("waiting room, a place", f"/bureaux/{dakar.code}/salle-d-attente/", send_the_form, ok),
        ("not found", "/bureaux/nulle-part/", None, {404}),
        ("not found, English", "/en/bureaux/nulle-part/", None, {404}),
    ]


# The one exception, page by page. A waiting line's page reloads itself (<meta
# http-equiv="refresh">, no JavaScript needed) to show the person's turn: a real-time event,
# the exception of WCAG 2.2.1 (Timing Adjustable) that axe-core's meta-refresh rule cannot
# know of. The page says it reloads and when, offers "update now", and holds no input that
# a reload would lose.
ALLOWED = {"waiting room, a place": {"meta-refresh"}}


def _ask_for_a_link(reference: str):
    def ask(page) -> None:
        page.locator("main form[method=post] input[name=reference]").fill(reference)
        send_the_form(page, "reference")

    return ask


def _reload(page) -> None:
    page.reload()


def test_every_public_page_is_accessible_light_and_from_the_portal_alone(
    live_server, new_page, settings
):
    visits = [
        (
            visit(
                new_page, name, live_server.url + path, then=then, allowed=ALLOWED.get(name, ())
            ),
            statuses,
        )
        for name, path, then, statuses in public_pages(settings)
    ]
    # Last, once the others are seen: the page of an address over its budget (the second
    # look at an office within the minute, with a budget of one).
    settings.AVAILABILITY_RATE = "1/m"
    too_many = visit(new_page, "too many requests", live_server.url + "/bureaux/paris-consulat/")
    too_many_again = visit(
        new_page, "too many requests", live_server.url + "/bureaux/paris-consulat/", then=_reload
    )
    visits += [(too_many, {200, 429}), (too_many_again, {429})]
    print(report([v for v, _statuses in visits]))

    unexpected = [f"{v.name}: {v.status}" for v, statuses in visits if v.status not in statuses]
    assert unexpected == [], "pages that did not answer as they should:\n" + "\n".join(unexpected)
    own = urlsplit(live_server.url).netloc
    for v, _statuses in visits:
        # The measure saw the page and its stylesheet (a tour that loaded nothing would weigh
        # nothing).
        assert v.loaded[0][1] > 0, v.name
        assert any(".css" in url for url, _ in v.loaded), v.name
    heavy = [f"{v.name}: {v.weight} bytes" for v, _ in visits if v.weight >= BUDGET]
    assert heavy == [], f"pages over {BUDGET} bytes with all they load:\n" + "\n".join(heavy)
    foreign = [f"{v.name}: {sorted(v.hosts - {own})}" for v, _ in visits if v.hosts - {own}]
    assert foreign == [], "pages that load from another host:\n" + "\n".join(foreign)
    blocking = [v for v, _ in visits if v.blocking]
    assert blocking == [], "serious or critical accessibility violations:\n" + report(blocking)


def staff_pages() -> tuple[list[tuple[str, str, object, dict, str | None]], dict]:
    """(name, address, what to do on it, viewport, whose session) of the main staff pages,
    and the administrator and the supervisor whose sessions open them."""
    centre = CentreFactory(office=bamako_centre(code="bko-centre"))
    paris = MissionFactory(office=paris_consulate(), centre=centre)
    admin = member("admin", username="admin.tour")
    supervisor = member("supervisor", paris.office, username="superviseur.tour")
    slot = slot_at(paris.office, 9, 30, days=1)
    appointment, _token = book(slot=slot)
    book(slot=slot, national_id="NINA00000000888", surname="KEITA")
    day = slot.starts_at.astimezone(paris.office.timezone).date().isoformat()
    file = applicant_file(paris.office, centre=centre, status=FileStatus.IN_PRODUCTION)
    for before, after in [("", "enrolled"), ("enrolled", "queued"), ("queued", "in_production")]:
        FileEvent.objects.create(file=file, from_status=before, to_status=after, by=admin)
    for status, count in [("enrolled", 3), ("queued", 5), ("on_hold", 2), ("ready", 1)]:
        PassportFileFactory.create_batch(count, centre=centre, office=paris.office, status=status)
    PassportFileFactory(centre=centre, office=paris.office, status=FileStatus.QUALITY_CHECK)
    shipment_send(mission=paris, by=admin)
    _suspend(
        paris.office,
        starts_in=timedelta(days=3),
        reopens_in=timedelta(days=5),
        message="Fermeture pour inventaire.",
    )
    backlog_snapshot_take()
    code = staff_enrolment_code_issue(user=supervisor)

    def enrol(page) -> None:
        page.locator("main form[method=post] input[name=enrolment_code]").fill(code)
        send_the_form(page, "enrolment_code")

    pages = [
        ("login", "/staff/connexion/", None, DESKTOP, None),
        ("login, sent empty", "/staff/connexion/", send_the_form, DESKTOP, None),
        ("two-factor enrolment", "/staff/double-authentification/", None, PHONE, "supervisor"),
        ("two-factor secret", "/staff/double-authentification/", enrol, PHONE, "supervisor"),
        ("agenda", f"/staff/agenda/{paris.office.code}/?date={day}", None, DESKTOP, "admin"),
        ("check-in", f"/staff/accueil/?q={appointment.reference}", None, DESKTOP, "admin"),
        ("files", "/staff/dossiers/", None, DESKTOP, "admin"),
        ("a file", f"/staff/dossiers/{file.reference}/", None, DESKTOP, "admin"),
        ("backlog dashboard", "/staff/backlog/", None, DESKTOP, "admin"),
        ("backlog dashboard, phone", "/staff/backlog/", None, PHONE, "admin"),
        ("suspensions", "/staff/suspensions/", None, DESKTOP, "admin"),
        ("pouches", "/staff/valises/", None, DESKTOP, "admin"),
    ]
    return pages, {"admin": admin, "supervisor": supervisor}


def test_the_main_staff_pages_are_accessible(live_server, new_page):
    pages, users = staff_pages()
    base = live_server.url
    # The administrator with their second factor; the supervisor without one yet (enrolling).
    sessions = {
        "admin": staff_cookies(users["admin"], base),
        "supervisor": staff_cookies(users["supervisor"], base, second_factor=False),
    }
    visits = [
        visit(new_page, name, base + path, then=then, viewport=viewport, cookies=sessions.get(who))
        for name, path, then, viewport, who in pages
    ]
    print(report(visits))
    wrong = [f"{v.name}: {v.status} at {v.url}" for v in visits if v.status != 200]
    assert wrong == [], "pages that did not open:\n" + "\n".join(wrong)
    # Each page is the one meant, not the login page it would send a stranger to.
    assert [v.name for v in visits if "/staff/connexion/" in v.url] == [
        "login",
        "login, sent empty",
    ]
    blocking = [v for v in visits if v.blocking]
    assert blocking == [], "serious or critical accessibility violations:\n" + report(blocking)
