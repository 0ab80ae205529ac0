"""The waiting room lets nobody in for whom no seat is left (appointments/waiting_room/seats.py):
those admitted never race each other for the last seats, a place waiting for a seat is told
so, places at the back and places taken at once keep their order while the seats hold the
line, seats closed during the window send nobody back, and second by second every admitted
person finds a seat. The grace of an admission that does not book, and the bound on those
admitted still booking, are in test_waiting_room_grace.py."""

from datetime import datetime, timedelta

import pytest
from django.core import signing
from django.test import Client
from rest_framework.test import APIClient

from appointments import services, waiting_room
from appointments.errors import SlotFull
from appointments.models import Slot, WaitingLine
from appointments.tests.factories import CentreOfficeFactory, someone
from appointments.tests.waiting_room_seats_support import (
    REOPENS_AT,
    admitted_at,
    book,
    later,
    look,
    reopening,
    seats_at,
    take,
)
from appointments.waiting_room.moments import GRACE_MARGIN
from tests.support import run_together

pytestmark = pytest.mark.usefixtures("protection_off", "fresh_caches")


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
