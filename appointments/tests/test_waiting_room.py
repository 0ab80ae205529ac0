"""The waiting room at a reopening (appointments/waiting_room/): tickets that cannot be
forged nor used by another browser, a draw seeded by a secret, admissions at the set rate,
later arrivals in order, the bound per network under concurrency, refreshes that write
nothing, the API path end to end, the booking form's redirect, the dashboard's figures."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from appointments import waiting_room
from appointments.models import Appointment, Suspension, WaitingLine, WaitingTicket
from appointments.tests.api_bookings import BOOKINGS, assert_error, payload
from appointments.tests.factories import CentreOfficeFactory, SlotFactory, member
from tests.support import log_in, run_together

pytestmark = pytest.mark.usefixtures("protection_off", "fresh_draws")

REOPENS_AT = datetime(2025, 11, 24, 7, 30, tzinfo=UTC)  # 07:30 in Bamako
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
def fresh_draws():
    waiting_room.forget_draws()
    yield
    waiting_room.forget_draws()


@pytest.fixture
def office(db):
    office = CentreOfficeFactory(code="bko-centre", name="Centre de Bamako")
    # Seats for everyone these tests let in: the line admits nobody for whom none is left
    # (the tests of that are in test_waiting_room_seats.py).
    start = REOPENS_AT + timedelta(days=3)
    SlotFactory(
        office=office, starts_at=start, ends_at=start + timedelta(minutes=15), capacity=5000
    )
    return office


@pytest.fixture
def slot(office):
    start = REOPENS_AT + timedelta(hours=2)
    return SlotFactory(office=office, starts_at=start, ends_at=start + timedelta(minutes=15))


@pytest.fixture
def suspension(office, freeze):
    """The service suspended for a week, reopening at 07:30; the clock ten minutes before."""
    freeze(REOPENS_AT - timedelta(minutes=10))
    suspension = Suspension.objects.create(
        starts_at=REOPENS_AT - timedelta(days=7), reopens_at=REOPENS_AT, message="Suspendu."
    )
    suspension.offices.set([office])
    return suspension


def join(client, office) -> dict:
    response = client.post(f"/api/v1/waiting-room/{office.code}/")
    assert response.status_code == 201, response.content
    return response.json()


def place(client, office, ticket: str):
    return client.get(f"/api/v1/waiting-room/{office.code}/{ticket}/")


def book(client, slot, admission: str | None = None, **overrides):
    headers = {"HTTP_X_ADMISSION": admission} if admission else {}
    body = json.dumps(payload(slot, **overrides))
    return client.post(BOOKINGS, body, content_type="application/json", **headers)


def tickets(n: int, office, *, first_network: int = 0, now=None) -> list[waiting_room.Place]:
    """n places taken through the service, each from a network (and address) of its own."""
    return [
        waiting_room.ticket_issue(
            office_id=office.pk,
            network=f"10.{i // 256}.{i % 256}.0/24",
            address=f"10.{i // 256}.{i % 256}.1",
            now=now,
        )
        for i in range(first_network, first_network + n)
    ]


def positions(places, office) -> list[int]:
    return [
        waiting_room.place_of(credential=p.ticket, office_id=office.pk).position for p in places
    ]


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


def test_an_address_past_its_bound_goes_to_the_back_then_is_refused(office, suspension, settings):
    # A carrier-grade NAT address carries many people: past its bound its places go to the
    # back of the line; only past OVERFLOW_PER_ADDRESS times the bound is it refused.
    from appointments.waiting_room.services import OVERFLOW_PER_ADDRESS

    settings.WAITING_ROOM_PER_ADDRESS = 2
    places = [join(APIClient(), office) for _ in range(2 * OVERFLOW_PER_ADDRESS)]
    assert len({place["ticket"] for place in places}) == 2 * OVERFLOW_PER_ADDRESS
    lanes = list(WaitingTicket.objects.order_by("number").values_list("overflow", flat=True))
    assert lanes == [False, False] + [True] * (2 * OVERFLOW_PER_ADDRESS - 2)
    refused = APIClient().post(f"/api/v1/waiting-room/{office.code}/")
    assert_error(refused, 429, "waiting_room_full_network")
    assert int(refused["Retry-After"]) == 40 * 60  # until the window closes
    # The page too.
    page = Client().post(f"/bureaux/{office.code}/salle-d-attente/")
    assert page.status_code == 429
    assert int(page["Retry-After"]) == 40 * 60
    # Another address of the same network still gets its places.
    assert join(APIClient(REMOTE_ADDR="127.0.0.2"), office)["ticket"]
    assert WaitingTicket.objects.count() == 2 * OVERFLOW_PER_ADDRESS + 1


def test_past_the_network_bound_a_place_goes_to_the_back_never_refused(
    office, suspension, freeze, settings
):
    """A carrier NAT's /24 saturated by one address: the people behind it are late, not
    locked out; among themselves they keep their order."""
    settings.WAITING_ROOM_PER_NETWORK = 3
    settings.WAITING_ROOM_RATE = 1

    def take(host: int, *, now=None):
        return waiting_room.ticket_issue(
            office_id=office.pk, network="198.51.100.0/24", address=f"198.51.100.{host}", now=now
        )

    crowd = [take(1) for _ in range(3)]  # the network's bound
    late_nat = [take(2), take(3)]  # past it: at the back
    others = tickets(2, office, first_network=10)  # within their own network's bound
    freeze(REOPENS_AT + timedelta(seconds=1))
    assert sorted(positions(crowd + others, office)) == [1, 2, 3, 4, 5]
    assert positions(late_nat, office) == [6, 7]
    # Later arrivals within the bounds come before them too...
    later = tickets(1, office, first_network=20)
    assert positions(later, office) == [6]
    assert positions(late_nat, office) == [7, 8]
    # ...until their turn has come: once in, they stay in and ahead.
    freeze(REOPENS_AT + timedelta(seconds=7))
    state = waiting_room.place_of(credential=late_nat[0].ticket, office_id=office.pk)
    assert (state.state, state.position) == (waiting_room.State.ADMITTED, 7)
    after = tickets(1, office, first_network=30)
    assert positions(after, office) == [8]
    assert positions(late_nat, office) == [7, 9]
    assert waiting_room.place_of(credential=late_nat[0].ticket, office_id=office.pk).admission
    # Nobody of that network was refused.
    assert WaitingTicket.objects.filter(overflow=True).count() == 2


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


# The draw ----------------------------------------------------------------------------------


def test_the_early_order_is_drawn_with_a_secret_not_by_arrival(
    office, suspension, freeze, settings
):
    early = tickets(40, office)
    freeze(REOPENS_AT + timedelta(seconds=1))
    drawn = positions(early, office)
    assert sorted(drawn) == list(range(1, 41))
    assert drawn != list(range(1, 41))  # not the order of arrival (nor of ticket ids)
    line = WaitingLine.objects.get()
    order = waiting_room.draw_order(line_id=line.pk, reopens_at=REOPENS_AT)
    assert order == [
        ticket.pk for ticket in sorted(line.tickets.all(), key=lambda t: drawn[t.number - 1])
    ]

    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    other = waiting_room.draw_order(line_id=line.pk, reopens_at=REOPENS_AT)
    assert sorted(other) == sorted(order)
    assert other != order  # another secret, another order


def test_before_the_reopening_no_position_is_given(office, suspension, client):
    body = join(APIClient(), office)
    assert body["position"] is None
    page = Client()
    page.post(f"/bureaux/{office.code}/salle-d-attente/")
    html = page.get(f"/bureaux/{office.code}/salle-d-attente/").content.decode()
    assert "tiré au sort à la réouverture" in html
    assert "Votre rang" not in html


# Admissions --------------------------------------------------------------------------------


def test_the_rate_is_kept_twenty_in_at_ten_seconds_at_two_per_second(
    office, suspension, freeze, settings
):
    settings.WAITING_ROOM_RATE = 2
    early = tickets(50, office)
    freeze(REOPENS_AT + timedelta(seconds=10))
    states = [waiting_room.place_of(credential=p.ticket, office_id=office.pk).state for p in early]
    assert states.count(waiting_room.State.ADMITTED) == 20
    assert states.count(waiting_room.State.WAITING) == 30
    assert waiting_room.admitted_now(line=WaitingLine.objects.get()) == 20
    last = waiting_room.place_of(
        credential=early[positions(early, office).index(50)].ticket, office_id=office.pk
    )
    assert last.estimated_wait_seconds == 15  # 30 more at 2 per second


def test_changing_the_rate_keeps_those_in_and_re_bases(office, suspension, freeze, settings):
    settings.WAITING_ROOM_RATE = 2
    tickets(100, office)
    line = WaitingLine.objects.get()
    freeze(REOPENS_AT + timedelta(seconds=10))
    waiting_room.line_rate_set(line_id=line.pk, rate=1)
    freeze(REOPENS_AT + timedelta(seconds=20))
    line.refresh_from_db()
    assert waiting_room.admitted_now(line=line) == 30
    waiting_room.line_rate_set(line_id=line.pk, rate=0)  # paused
    freeze(REOPENS_AT + timedelta(minutes=5))
    line.refresh_from_db()
    assert waiting_room.admitted_now(line=line) == 30


def test_later_arrivals_come_after_the_draw_in_their_order(office, suspension, freeze, settings):
    settings.WAITING_ROOM_RATE = 0.1
    early = tickets(5, office)
    later = []
    for second in range(1, 6):
        freeze(REOPENS_AT + timedelta(seconds=second))
        later += tickets(1, office, first_network=100 + second)
    freeze(REOPENS_AT + timedelta(seconds=6))
    assert sorted(positions(early, office)) == [1, 2, 3, 4, 5]
    assert positions(later, office) == [6, 7, 8, 9, 10]


def test_an_empty_line_does_not_bank_its_idle_time(office, suspension, freeze, settings):
    settings.WAITING_ROOM_RATE = 1
    tickets(3, office)
    freeze(REOPENS_AT + timedelta(minutes=5))  # everyone in long ago
    crowd = tickets(4, office, first_network=50)
    states = [p.state for p in crowd]
    assert states == [waiting_room.State.ADMITTED] + [waiting_room.State.WAITING] * 3
    freeze(REOPENS_AT + timedelta(minutes=5, seconds=2))
    refreshed = [waiting_room.place_of(credential=p.ticket, office_id=office.pk) for p in crowd]
    assert [p.state for p in refreshed].count(waiting_room.State.ADMITTED) == 3


def _admitted_at(place: waiting_room.Place) -> datetime:
    data = signing.Signer(salt=waiting_room.ADMISSION_SALT).unsign_object(place.admission)
    return datetime.fromtimestamp(data["a"], tz=UTC)


def test_a_new_arrival_or_a_new_rate_renews_no_expired_admission(
    office, suspension, freeze, settings
):
    settings.WAITING_ROOM_RATE = 1
    early = tickets(3, office)
    freeze(REOPENS_AT + timedelta(minutes=15))  # all three in at +1 to +3 s: expired
    line = WaitingLine.objects.get()

    def all_expired() -> None:
        for p in early:
            with pytest.raises(waiting_room.AdmissionExpired):
                waiting_room.place_of(credential=p.ticket, office_id=office.pk)
            assert_error(place(APIClient(), office, p.ticket), 410, "admission_expired")

    all_expired()
    newcomer = tickets(1, office, first_network=50)[0]  # finds the line empty: in at once
    assert newcomer.state == waiting_room.State.ADMITTED
    assert _admitted_at(newcomer) == REOPENS_AT + timedelta(minutes=15)
    all_expired()
    waiting_room.line_rate_set(line_id=line.pk, rate=2)
    all_expired()
    waiting_room.line_rate_set(line_id=line.pk, rate=0)
    all_expired()
    freeze(REOPENS_AT + timedelta(minutes=16))
    all_expired()
    assert _admitted_at(
        waiting_room.place_of(credential=newcomer.ticket, office_id=office.pk)
    ) == REOPENS_AT + timedelta(minutes=15)


def test_an_admission_keeps_the_moment_its_place_was_reached(office, suspension, freeze, settings):
    settings.WAITING_ROOM_RATE = 1
    early = tickets(10, office)
    freeze(REOPENS_AT + timedelta(seconds=1))
    by_position = {}
    for p in early:
        by_position[waiting_room.place_of(credential=p.ticket, office_id=office.pk).position] = p
    line = WaitingLine.objects.get()

    def at(position: int) -> datetime:
        return _admitted_at(
            waiting_room.place_of(credential=by_position[position].ticket, office_id=office.pk)
        )

    freeze(REOPENS_AT + timedelta(seconds=5))
    waiting_room.line_rate_set(line_id=line.pk, rate=2)  # 5 in
    freeze(REOPENS_AT + timedelta(seconds=6))  # 7 in
    assert at(3) == REOPENS_AT + timedelta(seconds=3)
    assert at(5) == REOPENS_AT + timedelta(seconds=5)
    assert at(7) == REOPENS_AT + timedelta(seconds=6)
    waiting_room.line_rate_set(line_id=line.pk, rate=0)  # paused: nobody new, nobody renewed
    freeze(REOPENS_AT + timedelta(minutes=1))
    line.refresh_from_db()
    assert waiting_room.admitted_now(line=line) == 7
    eighth = waiting_room.place_of(credential=by_position[8].ticket, office_id=office.pk)
    assert (eighth.state, eighth.estimated_wait_seconds) == (waiting_room.State.WAITING, None)
    assert at(3) == REOPENS_AT + timedelta(seconds=3)
    assert at(7) == REOPENS_AT + timedelta(seconds=6)
    freeze(REOPENS_AT + timedelta(minutes=10, seconds=3))
    with pytest.raises(waiting_room.AdmissionExpired):
        waiting_room.place_of(credential=by_position[3].ticket, office_id=office.pk)
    assert at(4) == REOPENS_AT + timedelta(seconds=4)
    # Resumed: the count goes on from the 7 in, those in keep their moment.
    waiting_room.line_rate_set(line_id=line.pk, rate=1)
    freeze(REOPENS_AT + timedelta(minutes=10, seconds=4))
    assert at(8) == REOPENS_AT + timedelta(minutes=10, seconds=4)
    assert at(7) == REOPENS_AT + timedelta(seconds=6)


def test_who_is_early_is_settled_under_the_line_lock_not_by_a_process_clock(
    office, suspension, freeze
):
    """A ticket stamped 07:29:59 by a process whose clock is behind, committed after the
    first arrival of the reopening, is a later arrival: the drawn places do not move, and
    every process (whatever it cached) finds the same positions."""
    early = tickets(2, office)
    freeze(REOPENS_AT + timedelta(seconds=1))
    drawn = positions(early, office)  # this process caches the draw
    assert sorted(drawn) == [1, 2]
    first_late = tickets(1, office, first_network=10)
    slow_clock = tickets(1, office, first_network=11, now=REOPENS_AT - timedelta(seconds=1))
    assert positions(early, office) == drawn
    assert positions(first_late + slow_clock, office) == [3, 4]
    line = WaitingLine.objects.get()
    assert (line.early, line.early_for) == (2, REOPENS_AT)
    assert len(waiting_room.draw_order(line_id=line.pk, reopens_at=REOPENS_AT)) == 2
    waiting_room.forget_draws()  # another process, nothing cached
    assert positions(early + first_late + slow_clock, office) == [*drawn, 3, 4]


# Bounds and costs --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_bounds_per_address_and_network_hold_under_concurrent_threads(settings, freeze):
    """20 requests of one address at once, whose bound is 1: exactly OVERFLOW_PER_ADDRESS
    (16) places, one within the bound. 20 of one network from 20 addresses at once: all get
    a place, exactly WAITING_ROOM_PER_NETWORK of them within the bound, the others at the
    back."""
    settings.WAITING_ROOM_PER_ADDRESS = 1
    settings.WAITING_ROOM_PER_NETWORK = 8
    office = CentreOfficeFactory()
    freeze(REOPENS_AT - timedelta(minutes=10))
    suspension = Suspension.objects.create(
        starts_at=REOPENS_AT - timedelta(days=7), reopens_at=REOPENS_AT, message="Suspendu."
    )
    suspension.offices.set([office])

    def take(network: str, address: str):
        return lambda: waiting_room.ticket_issue(
            office_id=office.pk,
            network=network,
            address=address,
            now=REOPENS_AT - timedelta(minutes=5),
        )

    one_address = run_together([take("198.51.100.0/24", "198.51.100.7")] * 20)
    refused = [r for r in one_address if isinstance(r, waiting_room.WaitingRoomFullNetwork)]
    assert len(refused) == 4
    assert sum(isinstance(r, waiting_room.Place) for r in one_address) == 16

    one_network = run_together([take("203.0.113.0/24", f"203.0.113.{i}") for i in range(20)])
    assert all(isinstance(r, waiting_room.Place) for r in one_network), one_network
    line = WaitingLine.objects.get()
    assert line.issued == 36
    numbers = sorted(WaitingTicket.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 37))
    # 1 of the first address and 8 of the second network within the bounds, 27 at the back.
    lanes = WaitingTicket.objects.order_by("number").values_list("overflow", "lane_number")
    assert sorted(n for overflow, n in lanes if not overflow) == list(range(1, 10))
    assert sorted(n for overflow, n in lanes if overflow) == list(range(1, 28))
    assert line.overflowed == 27


def _writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_a_refresh_writes_nothing_and_costs_a_few_reads(office, suspension, freeze):
    tickets(30, office)
    api, browser = APIClient(), Client()
    ticket = join(api, office)["ticket"]
    url = f"/bureaux/{office.code}/salle-d-attente/"
    browser.post(url)
    for moment in (REOPENS_AT - timedelta(minutes=1), REOPENS_AT + timedelta(seconds=1)):
        freeze(moment)
        for round_ in range(2):
            # The first after the reopening reads the draw (once) and the seats (once a
            # second per process, seats.GATE_SECONDS); the next ones the office and the place.
            first = moment > REOPENS_AT and round_ == 0
            with CaptureQueriesContext(connection) as queries:
                assert place(api, office, ticket).status_code == 200
            assert _writes(queries.captured_queries) == []
            assert len(queries.captured_queries) <= (4 if first else 2)
            with CaptureQueriesContext(connection) as queries:
                page = browser.get(url)
            assert page.status_code == 200
            assert _writes(queries.captured_queries) == []
            assert len(queries.captured_queries) <= 3
            assert '<meta http-equiv="refresh" content="' in page.content.decode()


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
