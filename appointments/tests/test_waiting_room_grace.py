"""The grace of an admission (appointments/waiting_room/seats.py, moments.py): an admission
that does not book gives its seat back after the grace (a tout's tickets hold the line back
that long, no longer, whether they never book or book and cancel), a booked admission keeps
its seat and a lapsed hold gives it back to the line, the grace follows how long people take
to book, and no more are let in than the bound on those admitted still booking. Every
process finds the same moments without writing anything."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments import services, waiting_room
from appointments.models import Appointment, WaitingLine
from appointments.tests.factories import CentreOfficeFactory
from appointments.tests.waiting_room_seats_support import (
    GRACE,
    REOPENS_AT,
    admitted_at,
    book,
    later,
    look,
    reopening,
    seats_at,
    take,
)
from appointments.waiting_room import seats
from appointments.waiting_room.moments import GRACE_MARGIN

pytestmark = pytest.mark.usefixtures("protection_off", "fresh_caches")


def by_position(office, places) -> list[waiting_room.Place]:
    """The places in line order (as looked at now)."""
    return sorted(places, key=lambda p: look(office, p).position)


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
