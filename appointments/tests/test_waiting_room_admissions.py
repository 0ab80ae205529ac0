"""The order of the waiting room and who comes in (appointments/waiting_room/): the early
places drawn with a secret at the reopening, admissions at the set rate, later arrivals in
their order, each admission keeping the moment its place was reached, the bounds per
address and per network (under concurrency too), and refreshes that write nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from appointments import waiting_room
from appointments.models import Suspension, WaitingLine, WaitingTicket
from appointments.tests.api_bookings import assert_error
from appointments.tests.factories import CentreOfficeFactory
from appointments.tests.waiting_room_support import REOPENS_AT, join, place, tickets
from tests.support import run_together

pytestmark = pytest.mark.usefixtures("protection_off", "fresh_draws")


def positions(places, office) -> list[int]:
    return [
        waiting_room.place_of(credential=p.ticket, office_id=office.pk).position for p in places
    ]


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
