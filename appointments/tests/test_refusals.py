"""A request for a full slot is cheaper than a booking: once a process found the slot full
it refuses at once, from memory, without the anti-bot challenge, the seat lock or any
statement that writes; it still offers the next free slots."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import services
from appointments.models import Appointment, UsedChallenge
from appointments.services import booking
from appointments.tests.api_bookings import assert_error, book
from appointments.tests.factories import SlotFactory, applicant

# Real commits: a slot is remembered full once the booking that filled it has committed.
pytestmark = pytest.mark.django_db(transaction=True)

WRITES = ("INSERT", "UPDATE", "DELETE", "EXECUTE EPASSPORT_BOOK", "SELECT PG_ADVISORY")


@pytest.fixture(autouse=True)
def _forget_full_slots():
    booking._known_full.clear()
    yield
    booking._known_full.clear()


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


def test_the_booking_that_takes_the_last_seat_marks_the_slot_full():
    slot = SlotFactory(capacity=2)
    services.booking_create(slot=slot, applicant=applicant())
    assert services.slot_known_full(slot_id=slot.pk) is None
    services.booking_create(slot=slot, applicant=applicant())
    assert services.slot_known_full(slot_id=slot.pk) is not None


@pytest.mark.usefixtures("protection_off")
def test_a_refusal_runs_no_statement_once_the_slot_is_known_full(api):
    slot = SlotFactory(capacity=1)
    later = SlotFactory(office=slot.office, starts_at=slot.starts_at + timedelta(days=1))
    assert book(api, slot).status_code == 201

    with CaptureQueriesContext(connection) as queries:
        refused = book(api, slot)

    body = assert_error(refused, 409, "slot_full")
    assert [free["id"] for free in body["next_free"]] == [later.pk]
    assert writes(queries.captured_queries) == []
    assert len(queries.captured_queries) <= 2  # the next free slots and their office, once
    with CaptureQueriesContext(connection) as queries:
        assert_error(book(api, slot), 409, "slot_full")
    assert queries.captured_queries == []


@pytest.mark.usefixtures("protection_off")
def test_a_first_refusal_writes_nothing(api):
    slot = SlotFactory(capacity=1)
    services.booking_create(slot=slot, applicant=applicant())
    booking._known_full.clear()  # another process took the seat
    rows = Appointment.objects.count()

    with CaptureQueriesContext(connection) as queries:
        assert_error(book(api, slot), 409, "slot_full")

    assert Appointment.objects.count() == rows
    assert not [
        q
        for q in writes(queries.captured_queries)
        if not q.upper().startswith(("EXECUTE EPASSPORT_BOOK", "PREPARE"))
    ]


def test_a_refusal_from_memory_leaves_the_challenge_unused(api, challenge_on, settings):
    settings.RATE_LIMITS = False
    slot = SlotFactory(capacity=1)
    services.booking_create(slot=slot, applicant=applicant())
    booking._remember_full(slot)

    assert_error(book(api, slot, altcha="not even a solution"), 409, "slot_full")
    assert not UsedChallenge.objects.exists()


def test_a_booking_rolled_back_does_not_mark_the_slot_full():
    from django.db import transaction

    slot = SlotFactory(capacity=1)

    def book_then_refuse():
        with transaction.atomic():
            services.booking_create(slot=slot, applicant=applicant())
            raise RuntimeError("refused after the statement (a later check)")

    with pytest.raises(RuntimeError):
        book_then_refuse()
    assert services.slot_known_full(slot_id=slot.pk) is None


def test_the_memory_lasts_a_moment(freeze):
    slot = SlotFactory(capacity=1)
    services.booking_create(slot=slot, applicant=applicant())
    assert services.slot_known_full(slot_id=slot.pk) is not None
    booking._known_full[slot.pk] = (0.0, slot)  # as if FULL_SLOT_SECONDS had passed
    assert services.slot_known_full(slot_id=slot.pk) is None
