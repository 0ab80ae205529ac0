"""The waiting room at a reopening (appointments/waiting_room/): nothing changes outside the
window, the API path from the place to the booking, tickets and admissions that cannot be
forged nor used by another browser, the booking form's redirect, the pages and the
dashboard's figures. The draw, the admissions at the set rate and the bounds per address and
network are in test_waiting_room_admissions.py; the office, the suspension and the fresh
draws are fixtures of conftest.py."""

import json
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from rest_framework.test import APIClient

from appointments import waiting_room
from appointments.models import Appointment, Suspension, WaitingLine, WaitingTicket
from appointments.tests.api_bookings import BOOKINGS, assert_error, payload
from appointments.tests.factories import CentreOfficeFactory, SlotFactory, member
from appointments.tests.waiting_room_support import REOPENS_AT, join, place, tickets
from tests.support import log_in

pytestmark = pytest.mark.usefixtures("protection_off", "fresh_draws")

FORM = {
    "surname": "Traoré",
    "given_names": "Aminata",
    "birth_date": "1990-05-17",
    "national_id": "1234 5678 9012 A",
    "email": "aminata@example.org",
    "phone": "+223 76 12 34 56",
    "language": "fr",
    "consent": "on",
}


@pytest.fixture
def slot(office):
    start = REOPENS_AT + timedelta(hours=2)
    return SlotFactory(office=office, starts_at=start, ends_at=start + timedelta(minutes=15))


def book(client, slot, admission: str | None = None, **overrides):
    headers = {"HTTP_X_ADMISSION": admission} if admission else {}
    body = json.dumps(payload(slot, **overrides))
    return client.post(BOOKINGS, body, content_type="application/json", **headers)


# Outside the window nothing changes -------------------------------------------------------


def test_outside_the_window_the_post_admits_at_once_and_booking_needs_nothing(
    office, slot, freeze
):
    freeze(REOPENS_AT - timedelta(hours=1))
    client = APIClient()
    body = join(client, office)
    assert body["ticket"] is None
    assert body["position"] == 0
    assert isinstance(body["admission"], str)
    assert not WaitingTicket.objects.exists()
    assert book(client, slot).status_code == 201


def test_a_reopening_further_than_the_window_changes_nothing(office, slot, suspension, freeze):
    freeze(REOPENS_AT - timedelta(minutes=31))
    assert_error(book(APIClient(), slot), 409, "booking_closed")
    freeze(REOPENS_AT + timedelta(minutes=30))
    assert book(APIClient(), slot).status_code == 201
    # A suspension of another office opens no window here.
    other = CentreOfficeFactory()
    freeze(REOPENS_AT + timedelta(minutes=5))
    assert waiting_room.window_at(office_id=other.pk, now=REOPENS_AT) is None


# The API path ------------------------------------------------------------------------------


def test_the_api_path_from_the_place_to_the_booking(office, slot, suspension, freeze):
    client = APIClient()
    freeze(REOPENS_AT - timedelta(minutes=5))
    body = join(client, office)
    assert set(body) >= {"ticket", "position", "estimated_wait_seconds", "admission"}
    assert body["seats_left"] is None  # counted from the reopening
    assert body["position"] is None  # drawn at the reopening
    assert body["estimated_wait_seconds"] == 300
    assert body["admission"] is None

    waiting = place(client, office, body["ticket"])
    assert waiting.status_code == 200
    assert waiting.json()["admission"] is None
    assert int(waiting["Retry-After"]) > 0

    freeze(REOPENS_AT + timedelta(seconds=10))
    admitted = place(APIClient(), office, body["ticket"]).json()  # no cookie needed
    assert admitted["position"] == 1
    assert admitted["estimated_wait_seconds"] == 0
    admission = admitted["admission"]
    assert isinstance(admission, str)

    assert_error(book(APIClient(), slot), 403, "admission_required")
    assert_error(book(APIClient(), slot, "forged"), 403, "admission_required")
    response = book(APIClient(), slot, admission)
    assert response.status_code == 201, response.content
    assert Appointment.objects.count() == 1

    # Good for ADMISSION_MINUTES from the admission, however often it is fetched again.
    freeze(REOPENS_AT + timedelta(minutes=10, seconds=11))
    assert_error(book(APIClient(), slot, admission), 403, "admission_required")
    assert_error(place(APIClient(), office, body["ticket"]), 410, "admission_expired")


def test_the_page_gives_a_browser_its_place_again_and_the_api_keeps_no_cookie(office, suspension):
    url = f"/bureaux/{office.code}/salle-d-attente/"
    browser = Client()
    browser.post(url)
    cookie = browser.cookies[waiting_room.ticket_cookie(office.pk)]
    assert cookie["httponly"]
    browser.post(url)
    assert browser.cookies[waiting_room.ticket_cookie(office.pk)].value == cookie.value
    assert WaitingTicket.objects.count() == 1
    # The API: the client keeps its ticket from the body; no cookie either way.
    api = APIClient()
    first = api.post(f"/api/v1/waiting-room/{office.code}/")
    assert first.status_code == 201
    assert not first.cookies
    assert join(api, office)["ticket"] != first.json()["ticket"]
    assert WaitingTicket.objects.count() == 3


def test_another_website_cannot_swap_a_browsers_ticket_through_the_api(office, suspension, freeze):
    """The API takes no CSRF token: a form of another website posting to it from the
    visitor's browser (cookies sent along) must neither read nor replace the page's place."""
    url = f"/bureaux/{office.code}/salle-d-attente/"
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url)
    token = page.cookies["csrftoken"].value
    assert browser.post(url, {"csrfmiddlewaretoken": token}).status_code == 302
    mine = browser.cookies[waiting_room.ticket_cookie(office.pk)].value
    number = WaitingTicket.objects.get().number

    forged = browser.post(
        f"/api/v1/waiting-room/{office.code}/", HTTP_ORIGIN="https://evil.example"
    )
    assert forged.status_code == 201
    assert waiting_room.ticket_cookie(office.pk) not in forged.cookies
    assert browser.cookies[waiting_room.ticket_cookie(office.pk)].value == mine
    assert forged.json()["ticket"] != mine  # a place of its own, not the browser's
    html = browser.get(url).content.decode()
    assert f"Votre place : n° {number}" in html


def test_an_unknown_office_is_not_found(db):
    assert APIClient().post("/api/v1/waiting-room/nowhere/").status_code == 404


# Tickets and admissions cannot be forged ---------------------------------------------------


def test_a_ticket_cannot_be_forged_or_used_at_another_office(office, suspension, freeze):
    client = APIClient()
    ticket = join(client, office)["ticket"]
    data = signing.Signer(salt=waiting_room.TICKET_SALT).unsign_object(ticket)
    other_office = CentreOfficeFactory()
    forgeries = [
        ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB"),
        signing.Signer(salt="another").sign_object(data),
        signing.Signer(salt=waiting_room.TICKET_SALT, key="guess").sign_object(
            {**data, "t": data["t"] + 1}
        ),
        str(data["t"]),  # the number alone
    ]
    for forged in forgeries:
        assert place(client, office, forged).status_code == 404, forged
    assert place(client, other_office, ticket).status_code == 404


def test_an_admission_is_bound_to_its_office_and_signed(office, slot, suspension, freeze):
    other = CentreOfficeFactory()
    other_slot = SlotFactory(office=other, starts_at=slot.starts_at, ends_at=slot.ends_at)
    suspension.offices.add(other)
    ticket = join(APIClient(), office)["ticket"]
    freeze(REOPENS_AT + timedelta(seconds=10))
    admission = place(APIClient(), office, ticket).json()["admission"]
    assert_error(book(APIClient(), other_slot, admission), 403, "admission_required")
    data = signing.Signer(salt=waiting_room.ADMISSION_SALT).unsign_object(admission)
    for forged in (
        signing.Signer(salt=waiting_room.ADMISSION_SALT, key="guess").sign_object(data),
        signing.Signer(salt=waiting_room.TICKET_SALT).sign_object(data),
        signing.Signer(salt=waiting_room.ADMISSION_SALT).sign_object({**data, "t": None}),
        join(APIClient(), CentreOfficeFactory())["admission"],  # an office with no window
    ):
        assert_error(book(APIClient(), slot, forged), 403, "admission_required")
    assert book(APIClient(), slot, admission).status_code == 201


def test_the_html_place_is_this_browsers_alone(office, slot, suspension, freeze):
    url = f"/bureaux/{office.code}/salle-d-attente/"
    mine = Client()
    assert mine.post(url).status_code == 302
    assert "Votre place : n° 1" in mine.get(url).content.decode()
    cookie = mine.cookies[waiting_room.ticket_cookie(office.pk)]
    assert cookie["httponly"]
    assert cookie.value not in mine.get(url).content.decode()  # never shown

    # Another browser, with the same address (the page's address carries no place).
    theirs = Client()
    html = theirs.get(url).content.decode()
    assert "Prendre une place" in html
    assert "n° 1" not in html

    freeze(REOPENS_AT + timedelta(seconds=10))
    page = mine.get(url)
    assert "C’est votre tour" in page.content.decode()
    admission = page.cookies[waiting_room.admission_cookie(office.pk)]
    assert admission["httponly"]
    # The admission cookie copied alone into another browser does not book.
    theirs.cookies[waiting_room.admission_cookie(office.pk)] = admission.value
    refused = theirs.get(f"/bureaux/{office.code}/creneau/{slot.pk}/")
    assert refused.status_code == 302
    assert refused["Location"].startswith(url)
    # A forged ticket cookie neither.
    theirs.cookies[waiting_room.ticket_cookie(office.pk)] = cookie.value[:-3] + "abc"
    assert theirs.get(f"/bureaux/{office.code}/creneau/{slot.pk}/").status_code == 302
    assert "Prendre une place" in theirs.get(url).content.decode()


# Pages -------------------------------------------------------------------------------------


def test_the_booking_form_sends_to_the_waiting_room_and_books_once_admitted(
    office, slot, suspension, freeze
):
    browser = Client()
    office_page = browser.get(f"/bureaux/{office.code}/").content.decode()
    assert f'href="/bureaux/{office.code}/salle-d-attente/"' in office_page

    freeze(REOPENS_AT + timedelta(seconds=1))
    form = f"/bureaux/{office.code}/creneau/{slot.pk}/"
    sent = browser.get(form)
    assert sent.status_code == 302
    room = sent["Location"]
    assert room.startswith(f"/bureaux/{office.code}/salle-d-attente/?suite=")
    assert browser.post(room, {"suite": form}).status_code == 302
    freeze(REOPENS_AT + timedelta(seconds=2))
    admitted = browser.get(room)
    html = admitted.content.decode()
    assert "C’est votre tour" in html
    assert f'<meta http-equiv="refresh" content="3;url={form}">' in html
    assert browser.get(form).status_code == 200
    response = browser.post(form, FORM)
    assert response.status_code == 302, response.content.decode()
    assert Appointment.objects.filter(slot=slot).count() == 1


def test_the_waiting_page_in_english(office, suspension, settings):
    browser = Client()
    browser.post(f"/en/bureaux/{office.code}/salle-d-attente/")
    html = browser.get(f"/en/bureaux/{office.code}/salle-d-attente/").content.decode()
    assert "Waiting room" in html
    assert "drawn" in html


def test_outside_the_window_the_waiting_page_sends_straight_on(office, client):
    response = client.get(f"/bureaux/{office.code}/salle-d-attente/")
    assert response.status_code == 302
    assert response["Location"] == f"/bureaux/{office.code}/"


def test_the_dashboard_shows_each_line_and_the_admin_changes_its_rate(
    office, suspension, freeze, client, settings
):
    settings.WAITING_ROOM_RATE = 2
    tickets(30, office)
    freeze(REOPENS_AT + timedelta(seconds=5))
    log_in(client, member("admin", is_superuser=True, is_staff=True))
    html = client.get("/staff/backlog/").content.decode()
    line = WaitingLine.objects.get()
    row = html.split(f'id="waiting-line-{line.pk}"')[1].split("</tr>")[0]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[1:4]] == ["30", "10", "20"]
    change = f"/staff/backlog/attente/{line.pk}/"
    assert f'action="{change}"' in row

    # The administrator halves the rate: the ten in stay in, the rest come at 1 per second.
    assert client.post(change, {"rate": "1"}).status_code == 302
    assert client.post(change, {"rate": "-1"}).status_code == 302  # refused, said so
    freeze(REOPENS_AT + timedelta(seconds=9))
    line.refresh_from_db()
    assert (line.rate, waiting_room.admitted_now(line=line)) == (1, 14)
    # The Django admin changes it the same way.
    admin_change = f"/admin/appointments/waitingline/{line.pk}/change/"
    assert client.post(admin_change, {"rate": "2"}).status_code == 302
    freeze(REOPENS_AT + timedelta(seconds=10))
    line.refresh_from_db()
    assert (line.rate, waiting_room.admitted_now(line=line)) == (2, 16)


def test_a_suspension_made_now_is_seen_at_once(office, slot, freeze):
    freeze(REOPENS_AT + timedelta(minutes=1))
    assert book(APIClient(), slot).status_code == 201  # no reopening near: remembered
    suspension = Suspension.objects.create(
        starts_at=REOPENS_AT - timedelta(days=7), reopens_at=REOPENS_AT, message="Suspendu."
    )
    suspension.offices.set([office])
    assert_error(book(APIClient(), slot), 403, "admission_required")


def test_the_page_sends_on_only_to_the_offices_own_pages(office, suspension, freeze):
    browser = Client()
    room = f"/bureaux/{office.code}/salle-d-attente/"
    browser.post(room)
    freeze(REOPENS_AT + timedelta(seconds=1))
    for elsewhere in ("https://evil.example/", "//evil.example/bureaux/", "/staff/"):
        html = browser.get(room, {"suite": elsewhere}).content.decode()
        assert f'content="3;url=/bureaux/{office.code}/"' in html


def test_a_places_credential_is_kept_out_of_the_logs():
    from core.logs import redact

    line = '"GET /api/v1/waiting-room/bko-centre/eyJvIjoxfQ:1a2b-c_3/ HTTP/1.1" 200'
    assert redact(line) == '"GET /api/v1/waiting-room/bko-centre/[ticket]/ HTTP/1.1" 200'
