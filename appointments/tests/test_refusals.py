"""A request for a full slot is cheaper than a booking: once a process found the slot full
it refuses at once, from memory, without the anti-bot challenge, the seat lock or any
statement that writes; it still offers the next free slots."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import services
from appointments.models import Appointment, UsedChallenge
from appointments.services import booking
from appointments.tests.api_bookings import BOOKINGS, assert_error, book, payload
from appointments.tests.factories import SlotFactory, applicant
from core.models import OutboxMessage

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


@pytest.mark.usefixtures("protection_off", "verify_on")
def test_a_booking_is_one_statement_and_no_transaction(api):
    # The first booking of a connection prepares the statement; the next ones only run it:
    # hold, bounds, messages and all, in one round trip, with no BEGIN or COMMIT around it.
    slot = SlotFactory(capacity=4)
    first = book(
        api, slot, national_id="NINA00000001", phone="+22370000001", email="a@example.org"
    )
    assert first.status_code == 201
    with CaptureQueriesContext(connection) as queries:
        held = book(
            api, slot, national_id="NINA00000002", phone="+22370000002", email="b@example.org"
        )
    assert held.status_code == 201
    assert [q["sql"].split(" (")[0] for q in queries.captured_queries] == [
        "EXECUTE epassport_book"
    ]
    hold = Appointment.objects.get(reference=held.json()["reference"])
    assert hold.status == "pending"
    assert OutboxMessage.objects.filter(appointment_id=hold.pk, kind="booking_code").count() == 2


def test_the_free_slots_built_by_hand_are_the_serializers():
    # The next free slots of a refusal are built without the serializer (a rush refuses
    # thousands): they must stay exactly what the serializer, the documented schema, gives.
    from zoneinfo import ZoneInfo

    from appointments.api.serializers import SlotSerializer, slots_body
    from appointments.tests.factories import OfficeFactory

    paris = OfficeFactory(code="paris-consulat", timezone=ZoneInfo("Europe/Paris"))
    first = SlotFactory(office=paris, capacity=3)
    services.booking_create(slot=first, applicant=applicant())
    slots = [first, SlotFactory(office=paris, starts_at=first.starts_at + timedelta(days=1))]
    for slot in slots:
        slot.refresh_from_db()

    by_hand = slots_body(slots, timezone=paris.timezone)

    served = SlotSerializer(slots, many=True, context={"timezone": paris.timezone}).data
    assert by_hand == [dict(item) for item in served]
    assert by_hand[0]["remaining"] == 2
    assert by_hand[0]["starts_at"].endswith(("+01:00", "+02:00"))


@pytest.mark.usefixtures("protection_off")
def test_those_refused_for_one_slot_are_offered_different_free_slots(api):
    """In a rush everyone refused for one slot would otherwise be offered the same five and
    meet there again: each refusal offers five of the next twenty free slots, drawn at
    random, in time order, and never a later one."""
    from appointments import selectors

    slot = SlotFactory(capacity=1)
    later = [
        SlotFactory(office=slot.office, starts_at=slot.starts_at + timedelta(hours=1 + n))
        for n in range(30)
    ]
    assert book(api, slot).status_code == 201
    pool = [s.pk for s in later[: selectors.NEXT_FREE_POOL]]
    offered = set()
    for _ in range(20):
        ids = [free["id"] for free in assert_error(book(api, slot), 409, "slot_full")["next_free"]]
        assert len(ids) == selectors.NEXT_FREE_OFFERED
        assert ids == sorted(ids, key=pool.index)  # in time order, all among the next twenty
        offered.update(ids)
    # Twenty draws of five among twenty: the chance of fewer than twelve different ones is
    # below one in a billion.
    assert len(offered) >= 12


@pytest.mark.usefixtures("protection_off")
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_refusal_from_memory_is_the_answer_of_the_view(api, monkeypatch, language):
    # The first refusal goes through DRF (the statement finds the slot full); the next one is
    # answered before DRF wraps the request: the same status, headers and bytes.
    from appointments.api.bookings import BookingCreateView

    slot = SlotFactory(capacity=1)
    SlotFactory(office=slot.office, starts_at=slot.starts_at + timedelta(days=1))
    services.booking_create(slot=slot, applicant=applicant())
    booking._known_full.clear()
    api.credentials(HTTP_ACCEPT_LANGUAGE=language)
    through_drf = book(api, slot)
    assert_error(through_drf, 409, "slot_full")

    def drf_entered(*args, **kwargs):
        raise AssertionError("a slot known full went on to DRF")

    monkeypatch.setattr(BookingCreateView, "initialize_request", drf_entered)
    from_memory = book(api, slot)

    assert from_memory.status_code == through_drf.status_code
    assert from_memory.content == through_drf.content
    assert dict(from_memory.items()) == dict(through_drf.items())
    assert from_memory["Content-Language"] == language


def test_refusals_from_memory_count_in_the_booking_rate_limit(api, settings, freeze):
    from django.utils import timezone

    freeze(timezone.now())  # one rate limit window for the whole test
    settings.BOOKING_CHALLENGE = False
    settings.RATE_LIMITS = settings.RATELIMIT_ENABLE = True
    settings.BOOKING_RATE = "3/m"
    slot = SlotFactory(capacity=1)
    free = SlotFactory(office=slot.office, starts_at=slot.starts_at + timedelta(days=1))
    services.booking_create(slot=slot, applicant=applicant())
    booking._remember_full(slot)

    def from_address(target, address="198.51.100.7"):
        body = json.dumps(payload(target))
        return api.post(BOOKINGS, body, content_type="application/json", REMOTE_ADDR=address)

    for _ in range(3):
        assert_error(from_address(slot), 409, "slot_full")
    # A bot polling a full slot spends the budget of its bookings, as any request does.
    assert_error(from_address(slot), 429, "rate_limited")
    assert_error(from_address(free), 429, "rate_limited")
    assert from_address(free, address="198.51.100.8").status_code == 201


@pytest.mark.usefixtures("protection_off")
@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'"slot"',
        b"{not json",
        b"\xff\xfe",
        b'{"slot": "1"}',
        b'{"slot": null}',
        b"[" * 100_000,  # deeper than json.loads goes: RecursionError
    ],
)
def test_a_body_the_memory_cannot_read_gets_the_views_answer(api, body):
    slot = SlotFactory(capacity=1)
    services.booking_create(slot=slot, applicant=applicant())
    booking._remember_full(slot)
    body = body.replace(b"1", str(slot.pk).encode())
    response = api.post(BOOKINGS, body, content_type="application/json")
    assert_error(response, 400, "invalid")
