"""The waiting room lets nobody in for whom no seat is left (appointments/waiting_room/seats.py):
those admitted never race each other for the last seats, a place waiting for a seat is told
so, an admission that does not book gives its seat back after the grace (a tout's tickets
hold the line back that long, no longer), a lapsed hold gives its seat back to the line, and
every process finds the same moments without writing anything."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from appointments import services, waiting_room
from appointments.errors import SlotFull
from appointments.models import Appointment, Slot, Suspension, WaitingLine
from appointments.tests.factories import CentreOfficeFactory, SlotFactory, someone
from appointments.waiting_room import seats
from appointments.waiting_room.moments import GRACE_MARGIN
from tests.support import run_together

pytestmark = pytest.mark.usefixtures("protection_off", "fresh_caches")

REOPENS_AT = datetime(2025, 11, 24, 7, 30, tzinfo=UTC)
GRACE = 120


@pytest.fixture
def fresh_caches(settings):
    settings.WAITING_ROOM_GRACE_SECONDS = GRACE
    waiting_room.forget_draws()
    yield
    waiting_room.forget_draws()


def seats_at(office, *capacities: int) -> list[Slot]:
    """Slots of these capacities at the office, the days after the reopening."""
    slots = []
    for day, capacity in enumerate(capacities, start=1):
        start = REOPENS_AT + timedelta(days=day)
        slots.append(
            SlotFactory(
                office=office,
                starts_at=start,
                ends_at=start + timedelta(minutes=15),
                capacity=capacity,
            )
        )
    return slots


def reopening(office, freeze) -> Suspension:
    freeze(REOPENS_AT - timedelta(minutes=10))
    suspension = Suspension.objects.create(
        starts_at=REOPENS_AT - timedelta(days=7), reopens_at=REOPENS_AT, message="Suspendu."
    )
    suspension.offices.set([office])
    return suspension


def take(office, n: int, *, first: int = 0) -> list[waiting_room.Place]:
    """n places, each from a network (and address) of its own."""
    return [
        waiting_room.ticket_issue(
            office_id=office.pk, network=f"10.{i // 256}.{i % 256}.0/24", address=f"10.0.{i}.1"
        )
        for i in range(first, first + n)
    ]


def look(office, place: waiting_room.Place) -> waiting_room.Place:
    return waiting_room.place_of(credential=place.ticket, office_id=office.pk)


def ticket_id(place: waiting_room.Place) -> int:
    return signing.Signer(salt=waiting_room.TICKET_SALT).unsign_object(place.ticket)["t"]


def admitted_at(place: waiting_room.Place) -> datetime:
    data = signing.Signer(salt=waiting_room.ADMISSION_SALT).unsign_object(place.admission)
    return datetime.fromtimestamp(data["a"], tz=UTC)


def by_position(office, places) -> list[waiting_room.Place]:
    """The places in line order (as looked at now)."""
    return sorted(places, key=lambda p: look(office, p).position)


def book(slot, place, **applicant):
    return services.booking_create(
        slot=slot, applicant=someone(**applicant), admission_ticket=ticket_id(place)
    )


def later(seconds: float, freeze) -> None:
    freeze(REOPENS_AT + timedelta(seconds=seconds))
    waiting_room.forget_draws()  # another process, or this one a second later


def test_nobody_is_let_in_beyond_the_seats(db, freeze, settings):
    settings.WAITING_ROOM_RATE = 100
    office = CentreOfficeFactory()
    seats_at(office, 3)
    reopening(office, freeze)
    places = take(office, 10)
    later(5, freeze)  # the rate alone would have let all ten in
    looked = [look(office, p) for p in places]
    assert [p.state for p in looked].count(waiting_room.State.ADMITTED) == 3
    assert waiting_room.admitted_now(line=WaitingLine.objects.get()) == 3
    waiting = [p for p in looked if p.state == waiting_room.State.WAITING]
    assert len(waiting) == 7
    assert all(p.no_seat and p.seats_left == 0 for p in waiting)
    assert all(p.estimated_wait_seconds is None for p in waiting)
    # The API says it: no admission, no seat left, no estimate it could not keep.
    body = APIClient().get(f"/api/v1/waiting-room/{office.code}/{waiting[0].ticket}/").json()
    assert body["admission"] is None
    assert body["seats_left"] == 0
    assert body["estimated_wait_seconds"] is None
    assert body["position"] >= 4


@pytest.mark.django_db(transaction=True)
def test_those_admitted_booking_at_the_same_instant_all_get_a_seat(freeze, settings):
    """Six seats, twenty places: the six admitted book at once (threads) and all get a seat;
    the rate alone would have let twenty in to race for them."""
    settings.WAITING_ROOM_RATE = 100
    office = CentreOfficeFactory()
    first, second = seats_at(office, 3, 3)
    reopening(office, freeze)
    places = take(office, 20)
    later(5, freeze)
    admitted = [p for p in places if look(office, p).state == waiting_room.State.ADMITTED]
    assert len(admitted) == 6

    def one(place):
        def run():
            for slot in (first, second):  # the first one everybody wants, then the next
                try:
                    return book(slot, place)[0].slot_id
                except SlotFull:
                    continue
            return None

        return run

    results = run_together([one(p) for p in admitted])
    assert all(isinstance(r, int) for r in results), results
    assert sorted(results) == [first.pk] * 3 + [second.pk] * 3
    # Nobody else is in: no seat is left.
    later(6, freeze)
    still = [look(office, p) for p in places if p not in admitted]
    assert {p.state for p in still} == {waiting_room.State.WAITING}
    assert all(p.no_seat for p in still)


def test_an_admission_that_does_not_book_gives_its_seat_back_after_the_grace(db, freeze, settings):
    """A tout's admissions that never book hold seats back for the grace, then the next in
    line come in, at the rate, and keep that moment."""
    settings.WAITING_ROOM_RATE = 1
    office = CentreOfficeFactory()
    (slot,) = seats_at(office, 3)
    reopening(office, freeze)
    early = take(office, 6)
    later(10, freeze)
    line = by_position(office, early)
    assert [look(office, p).state for p in line] == [waiting_room.State.ADMITTED] * 3 + [
        waiting_room.State.WAITING
    ] * 3
    book(slot, line[0])  # in at +1 s, books; the next two never do (the tout)
    back = GRACE + GRACE_MARGIN
    later(2 + back - 0.5, freeze)
    assert look(office, line[3]).state == waiting_room.State.WAITING
    later(3 + back, freeze)
    fourth, fifth = look(office, line[3]), look(office, line[4])
    assert (fourth.state, fifth.state) == (waiting_room.State.ADMITTED,) * 2
    assert admitted_at(fourth) == REOPENS_AT + timedelta(seconds=2 + back)
    assert admitted_at(fifth) == REOPENS_AT + timedelta(seconds=3 + back)
    sixth = look(office, line[5])
    assert (sixth.state, sixth.no_seat) == (waiting_room.State.WAITING, True)
    # The free seats are kept for the fourth and fifth (the page says so).
    assert sixth.free_seats == 2
    # Later, in another process: the same moments (nothing was written to remember them).
    later(200, freeze)
    assert admitted_at(look(office, line[4])) == REOPENS_AT + timedelta(seconds=3 + back)
    # The fourth books; the fifth does not, and gives its seat back in turn.
    book(slot, line[3])
    later(3 + 2 * back, freeze)
    assert look(office, line[5]).state == waiting_room.State.ADMITTED
    assert admitted_at(look(office, line[5])) == REOPENS_AT + timedelta(seconds=3 + 2 * back)


def test_a_booked_admission_keeps_its_seat_and_a_lapsed_hold_gives_it_back(
    db, freeze, settings, verify_on
):
    settings.WAITING_ROOM_RATE = 1
    office = CentreOfficeFactory()
    (slot,) = seats_at(office, 1)
    reopening(office, freeze)
    places = take(office, 2)
    later(5, freeze)
    first, second = by_position(office, places)
    hold, _token = book(slot, first)
    assert hold.status == Appointment.Status.PENDING
    # Long after the grace the hold still holds its seat: nobody else comes in.
    later(10 * 60, freeze)
    assert look(office, second).state == waiting_room.State.WAITING
    assert look(office, second).free_seats == 0
    # The hold lapses (never confirmed) and is expired: its seat comes back to the line, from
    # the moment it lapsed.
    later(16 * 60, freeze)
    assert services.holds_expire() == 1
    waiting_room.forget_draws()
    now_in = look(office, second)
    assert now_in.state == waiting_room.State.ADMITTED
    assert admitted_at(now_in) == hold.hold_expires_at.replace(microsecond=0)


def test_the_page_says_when_no_seat_is_left(db, freeze, settings):
    settings.WAITING_ROOM_RATE = 100
    office = CentreOfficeFactory()
    (slot,) = seats_at(office, 1)
    reopening(office, freeze)
    url = f"/bureaux/{office.code}/salle-d-attente/"
    first, second = Client(), Client()
    first.post(url)
    second.post(url)
    later(5, freeze)
    pages = {}
    for browser in (first, second):
        html = browser.get(url).content.decode()
        pages["in" if "C’est votre tour" in html else "out"] = (browser, html)
    assert set(pages) == {"in", "out"}
    assert "Une place vous est gardée pendant 2 minutes" in pages["in"][1]
    assert "gardées pour les personnes admises avant vous" in pages["out"][1]
    assert "Attente estimée" not in pages["out"][1]
    # The one admitted books: no seat is left at all.
    ticket = pages["in"][0].cookies[waiting_room.ticket_cookie(office.pk)].value
    services.booking_create(
        slot=slot,
        applicant=someone(),
        admission_ticket=signing.Signer(salt=waiting_room.TICKET_SALT).unsign_object(ticket)["t"],
    )
    waiting_room.forget_draws()
    html = pages["out"][0].get(url).content.decode()
    assert "Il n’y a plus de place libre dans ce bureau pour le moment." in html
    english = pages["out"][0].get(f"/en{url}").content.decode()
    assert "There is no seat left at this office for now." in english


def test_places_at_the_back_stay_behind_later_arrivals_while_seats_hold_the_line(
    db, freeze, settings
):
    """Past its network's bound a place goes to the back, after every place within the bounds
    except those that come once it is in: reached by the rate but held back for want of a
    seat is not in."""
    settings.WAITING_ROOM_RATE = 100
    settings.WAITING_ROOM_PER_NETWORK = 1
    office = CentreOfficeFactory()
    seats_at(office, 2)
    reopening(office, freeze)

    def from_network(network: int, host: int):
        return waiting_room.ticket_issue(
            office_id=office.pk, network=f"10.9.{network}.0/24", address=f"10.9.{network}.{host}"
        )

    regular = [from_network(1, 1), from_network(2, 1)]
    back = from_network(1, 2)  # past its network's bound
    later(5, freeze)
    assert sorted(look(office, p).position for p in regular) == [1, 2]
    assert (look(office, back).position, look(office, back).no_seat) == (3, True)
    newcomer = from_network(3, 1)
    assert look(office, newcomer).position == 3
    assert look(office, back).position == 4


def test_seats_closed_during_the_window_do_not_send_anyone_back(db, freeze, settings):
    settings.WAITING_ROOM_RATE = 100
    office = CentreOfficeFactory()
    _first, second = seats_at(office, 2, 2)
    reopening(office, freeze)
    places = take(office, 3)
    later(5, freeze)
    take(office, 1, first=50)  # the first place after the reopening settles the seats
    in_before = {p.ticket: look(office, p) for p in places}
    assert sum(p.state == waiting_room.State.ADMITTED for p in in_before.values()) == 3
    Slot.objects.filter(pk=second.pk).update(is_open=False)
    later(6, freeze)
    for place in places:
        again = look(office, place)
        assert again.state == waiting_room.State.ADMITTED
        assert again.admission == in_before[place.ticket].admission


@pytest.mark.django_db(transaction=True)
def test_places_taken_at_once_while_seats_hold_the_line(freeze, settings):
    """Twelve places taken at the same instant (threads) while no seat is left: each gets its
    own number and place at the back, nobody more comes in, and every process finds the same
    places."""
    settings.WAITING_ROOM_RATE = 100
    office = CentreOfficeFactory()
    seats_at(office, 3)
    reopening(office, freeze)
    early = take(office, 10)
    later(5, freeze)
    assert waiting_room.admitted_now(line=WaitingLine.objects.get()) == 3

    def arrive(i: int):
        return lambda: take(office, 1, first=100 + i)[0]

    arrivals = run_together([arrive(i) for i in range(12)])
    assert all(isinstance(p, waiting_room.Place) for p in arrivals), arrivals
    line = WaitingLine.objects.get()
    assert line.issued == 22
    waiting_room.forget_draws()
    looked = [look(office, p) for p in arrivals]
    assert sorted(p.position for p in looked) == list(range(11, 23))
    assert all(p.state == waiting_room.State.WAITING and p.no_seat for p in looked)
    assert [look(office, p).state for p in early].count(waiting_room.State.ADMITTED) == 3
    assert waiting_room.admitted_now(line=line) == 3


def test_booking_then_cancelling_keeps_a_seat_from_the_line_no_longer_than_the_grace(
    db, freeze, settings
):
    """A tout that books with its admission and cancels at once (its admission would let it
    book again for ten minutes) holds the seat back no longer than one that never books."""
    settings.WAITING_ROOM_RATE = 1
    office = CentreOfficeFactory()
    (slot,) = seats_at(office, 1)
    reopening(office, freeze)
    places = take(office, 2)
    later(2, freeze)
    first, second = by_position(office, places)
    booked, _token = book(slot, first)
    later(3, freeze)
    services.booking_cancel(appointment=booked)
    later(1 + GRACE + GRACE_MARGIN - 1, freeze)
    assert look(office, second).state == waiting_room.State.WAITING
    later(1 + GRACE + GRACE_MARGIN, freeze)
    assert admitted_at(look(office, second)) == REOPENS_AT + timedelta(
        seconds=1 + GRACE + GRACE_MARGIN
    )


def test_second_by_second_every_admitted_person_finds_a_seat(db, freeze, settings):
    """A line followed second by second, each second as another process would see it: people
    in stay in with the same moment, those admitted who book within their grace always find
    a seat, those who never book give theirs back, and the admitted who have not booked never
    outnumber the free seats."""
    import random

    settings.WAITING_ROOM_RATE = 2
    settings.WAITING_ROOM_GRACE_SECONDS = 20
    grace = 20 + GRACE_MARGIN
    office = CentreOfficeFactory()
    seats_at(office, 4, 4, 4, 4, 4)  # 20 seats
    reopening(office, freeze)
    rng = random.Random(7)
    places = take(office, 25)  # early: drawn
    # How long each takes to book once in; None: never books (a tout's ticket).
    delay = {p.ticket: (None if rng.random() < 0.3 else rng.randint(1, 15)) for p in places}
    moments: dict[str, datetime] = {}
    booked: set[str] = set()
    for second in range(0, 140):
        later(second, freeze)
        if second in (10, 20, 30):  # later arrivals, in their order
            for place in take(office, 3, first=100 + second):
                places.append(place)
                delay[place.ticket] = rng.randint(1, 15)
        looked = {p.ticket: look(office, p) for p in places}
        for ticket, at in moments.items():  # in stays in, with the same moment
            assert admitted_at(looked[ticket]) == at, (second, ticket)
        for ticket, place in looked.items():
            if place.state == waiting_room.State.ADMITTED and ticket not in moments:
                moments[ticket] = admitted_at(place)
        now = REOPENS_AT + timedelta(seconds=second)
        unbooked = [
            t
            for t, at in moments.items()
            if t not in booked and now < at + timedelta(seconds=grace)
        ]
        free = sum(s.capacity - s.booked for s in Slot.objects.filter(office=office))
        assert len(unbooked) <= free, (second, len(unbooked), free)
        for ticket, at in moments.items():
            due = delay[ticket]
            if ticket in booked or due is None or now < at + timedelta(seconds=due):
                continue
            slot = Slot.objects.filter(office=office, booked__lt=4).order_by("?").first()
            assert slot is not None, f"no seat left for a place admitted at {at}"
            book(slot, next(p for p in places if p.ticket == ticket))
            booked.add(ticket)
    bookers = [t for t in delay if delay[t] is not None]
    assert len(booked) == 20  # every seat went to someone who wanted one
    assert booked <= set(bookers)


def test_the_grace_grows_when_people_take_longer_to_book(db, freeze, settings):
    """In a rush people take longer to book: the grace follows the median delay of the line's
    recent bookings (three times it), so that their seats are not given to later people while
    they are still booking."""
    settings.WAITING_ROOM_RATE = 1
    settings.WAITING_ROOM_GRACE_SECONDS = 20
    office = CentreOfficeFactory()
    (slot,) = seats_at(office, 400)
    reopening(office, freeze)
    places = take(office, 190)
    later(1, freeze)
    line = by_position(office, places)  # place n comes in at +n s
    assert look(office, line[0]).grace_seconds == 20  # nothing to go by yet: the shortest
    for n, place in enumerate(line[:110], start=1):
        freeze(REOPENS_AT + timedelta(seconds=n + 60))  # a minute after coming in
        book(slot, place)
    later(190, freeze)
    # Place 176 came in once the 110 bookings (the last made at +170 s) had committed: it
    # keeps its seat three minutes. Place 120 came in with fewer than 100 to go by.
    assert look(office, line[175]).grace_seconds == 180
    assert look(office, line[119]).grace_seconds == 20
    # Another process finds the same.
    waiting_room.forget_draws()
    gate = seats.gate(line=WaitingLine.objects.get(), now=timezone.now(), reopens_at=REOPENS_AT)
    assert gate.graces[175] == 180


def test_a_touts_slow_bookings_do_not_stretch_the_grace():
    from appointments.waiting_room.moments import GRACE_SAMPLE, _Delays

    delays = _Delays(120, 600)
    for _ in range(GRACE_SAMPLE // 2 - 1):
        delays.add(50)
    assert delays.grace() == 120  # too few bookings to go by
    delays.add(50)
    assert delays.grace() == 150
    for _ in range(32):  # a tout's holds, booked as late as its admissions allow
        delays.add(599)
    assert delays.grace() == 150
    for _ in range(GRACE_SAMPLE):
        delays.add(400)
    assert delays.grace() == 600  # at most ADMISSION_MINUTES


def test_no_more_are_let_in_than_in_progress_while_they_book(db, freeze, settings):
    """When people book slowly (a server slowed by a rush), the line lets in a place as one
    of those admitted books or runs out of grace, not at the rate onto a server already
    answering late."""
    settings.WAITING_ROOM_RATE = 100
    settings.WAITING_ROOM_IN_PROGRESS = 2
    office = CentreOfficeFactory()
    (slot,) = seats_at(office, 20)  # seats are not what holds the line here
    reopening(office, freeze)
    places = take(office, 6)
    later(5, freeze)
    line = by_position(office, places)
    states = [look(office, p).state for p in line]
    assert states == [waiting_room.State.ADMITTED] * 2 + [waiting_room.State.WAITING] * 4
    assert look(office, line[2]).seats_left > 0  # seats are left: it waits for its turn
    later(8, freeze)
    book(slot, line[0])  # the first books at +8 s: one room is left
    later(9, freeze)
    third = look(office, line[2])
    assert third.state == waiting_room.State.ADMITTED
    assert admitted_at(third) == REOPENS_AT + timedelta(seconds=8)
    assert look(office, line[3]).state == waiting_room.State.WAITING
    # The second never books: its room is left at the end of its grace.
    later(GRACE + GRACE_MARGIN + 1, freeze)
    fourth = look(office, line[3])
    assert fourth.state == waiting_room.State.ADMITTED
    assert admitted_at(fourth) <= REOPENS_AT + timedelta(seconds=GRACE + GRACE_MARGIN + 1)
    assert look(office, line[4]).state == waiting_room.State.WAITING


def test_without_the_bound_the_rate_alone_lets_them_in(db, freeze, settings):
    settings.WAITING_ROOM_RATE = 100
    settings.WAITING_ROOM_IN_PROGRESS = 0
    office = CentreOfficeFactory()
    seats_at(office, 20)
    reopening(office, freeze)
    places = take(office, 6)
    later(5, freeze)
    assert {look(office, p).state for p in places} == {waiting_room.State.ADMITTED}
