"""The booking rule has two forms (its SQL functions for the statement and the listings,
eligibility.verdict() for telling the applicant why): on every combination of suspension
scope and timing, slot state and office state, the booking statement, the diagnosis, the
free-slot listing, the home page's flags and booking_create itself give the same answer,
and the answer the rule states."""

import itertools
import re
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from appointments import selectors, services
from appointments.errors import BookingClosed, SlotFull, SlotInPast
from appointments.models import Appointment, Slot, Suspension
from appointments.services import booking
from appointments.tests.factories import OfficeFactory, SlotFactory, applicant

pytestmark = pytest.mark.django_db

SCOPES = ["all offices", "this office", "another office"]
TIMINGS = ["past", "current", "ahead, covering the slot", "open ended"]
SUSPENSIONS = [None, *itertools.product(SCOPES, TIMINGS)]
SLOT_STATES = ["open", "closed", "full", "past", "held back for the displaced"]


def _window(timing: str, now):
    return {
        "past": (now - timedelta(days=10), now - timedelta(days=5)),
        "current": (now - timedelta(days=1), now + timedelta(days=1)),
        "ahead, covering the slot": (now + timedelta(days=1), now + timedelta(days=3)),
        "open ended": (now - timedelta(days=1), None),
    }[timing]


def _case(suspension, slot_state: str, office_active: bool, now):
    office = OfficeFactory(active=office_active)
    start = now - timedelta(hours=1) if slot_state == "past" else now + timedelta(days=2)
    slot = SlotFactory(
        office=office,
        starts_at=start,
        ends_at=start + timedelta(minutes=15),
        capacity=1,
        is_open=slot_state != "closed",
    )
    if slot_state == "held back for the displaced":
        Slot.objects.filter(pk=slot.pk).update(reserved=1)
        slot.refresh_from_db()
    if slot_state == "full":
        Appointment.objects.create(
            reference=services.new_reference(),
            office=office,
            slot=slot,
            surname="DIARRA",
            given_names="Awa",
            birth_date=date(1990, 1, 1),
            national_id="FULL00001",
            email="awa@example.org",
            phone="+22376123456",
            manage_token_hash="0" * 64,
        )
        slot.refresh_from_db()
    expected_suspended = False
    if suspension is not None:
        scope, timing = suspension
        starts_at, reopens_at = _window(timing, now)
        row = Suspension.objects.create(
            starts_at=starts_at, reopens_at=reopens_at, message="Suspendu."
        )
        if scope != "all offices":
            row.offices.add(office if scope == "this office" else OfficeFactory())
        covers = [
            starts_at <= moment and (reopens_at is None or reopens_at > moment)
            for moment in (now, slot.starts_at)
        ]
        expected_suspended = scope != "another office" and any(covers)
    return office, slot, expected_suspended


def _statement_books(slot, now) -> bool:
    """Run the real booking statement, then undo it."""
    params = {
        "reference": services.new_reference(),
        "slot": slot.pk,
        "now": now,
        "created_at": now,
        "token_hash": "0" * 64,
        "status": "booked",
        "hold_expires_at": None,
        "code_hash": "",
        "email_key": "",
        "network": "",
        "network_cap": 1,
        "admission_ticket": None,
        "failure_cap": 5,
        "challenge": "",
        "challenge_expires": 0,
        "kind": "booking_confirmed",
        "payload": "{}",
        "event": "confirmed",
        **applicant().__dict__,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        row = booking._execute_book(cursor, params)
        transaction.set_rollback(True)
    return row[0] is not None


@pytest.mark.parametrize("office_active", [True, False], ids=["active", "inactive"])
@pytest.mark.parametrize("slot_state", SLOT_STATES)
@pytest.mark.parametrize("suspension", SUSPENSIONS, ids=lambda s: "none" if s is None else str(s))
def test_the_statement_the_diagnosis_and_the_listings_agree(suspension, slot_state, office_active):
    now = timezone.now()
    office, slot, suspended = _case(suspension, slot_state, office_active, now)
    expected = office_active and slot_state == "open" and not suspended

    statement = _statement_books(slot, now)
    refusal = services.slot_refusal(slot=slot, office=office, now=now)
    listed = slot in selectors.free_slots(
        office=office, date_from=date.min + timedelta(days=1), date_to=date(9998, 12, 31), now=now
    )
    flags = {o.pk: o for o in selectors.offices_with_free_slots(now=now)}

    assert statement is expected
    assert (refusal is None) is expected
    assert listed is expected
    if office_active:
        assert flags[office.pk].has_free_slot is expected
        in_force_now = selectors.suspension_at(office=office, at=now) is not None
        assert flags[office.pk].suspended_now is in_force_now

    # The reason named is the first that applies, in the order the applicant is told.
    if not office_active or slot_state == "closed":
        assert isinstance(refusal, BookingClosed)
        assert refusal.extra["reopens_at"] is None
    elif suspended:
        assert isinstance(refusal, BookingClosed)
        assert refusal.detail == "Suspendu."
    elif slot_state == "past":
        assert isinstance(refusal, SlotInPast)
    elif slot_state in ("full", "held back for the displaced"):
        assert isinstance(refusal, SlotFull)

    # For a displaced appointment, the seats held back count as free: both forms agree.
    for_displaced = office_active and slot_state in ("open", "held back for the displaced")
    for_displaced = for_displaced and not suspended
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM epassport_bookable_slots(%s, true) WHERE id = %s)",
            [now, slot.pk],
        )
        assert cursor.fetchone()[0] is for_displaced
    refusal_displaced = services.slot_refusal(slot=slot, office=office, now=now, displaced=True)
    assert (refusal_displaced is None) is for_displaced

    # And booking_create answers exactly that, at once (no retry ending in slot_full).
    if expected:
        appointment, _token = services.booking_create(slot=slot, applicant=applicant(), now=now)
        assert appointment.status == Appointment.Status.BOOKED
    else:
        with pytest.raises(type(refusal)) as raised:
            services.booking_create(slot=slot, applicant=applicant(), now=now)
        assert raised.value.as_dict() == refusal.as_dict()


def test_the_suspension_named_is_the_one_reopening_last_in_both_forms():
    now = timezone.now()
    office = OfficeFactory()
    slot = SlotFactory(office=office, starts_at=now + timedelta(days=2))
    Suspension.objects.create(
        starts_at=now - timedelta(days=1), reopens_at=now + timedelta(days=3), message="Court."
    )
    Suspension.objects.create(
        starts_at=now - timedelta(days=2), reopens_at=now + timedelta(days=9), message="Long."
    )
    refusal = services.slot_refusal(slot=slot, office=office, now=now)
    assert refusal.detail == "Long."
    assert selectors.suspension_at(office=office, at=now).message == "Long."
    Suspension.objects.create(starts_at=now - timedelta(hours=1), message="Sans date.")
    refusal = services.slot_refusal(slot=slot, office=office, now=now)
    assert (refusal.detail, refusal.extra["reopens_at"]) == ("Sans date.", None)
    assert selectors.suspension_at(office=office, at=now).message == "Sans date."


def test_the_statement_inserts_every_column_of_an_appointment():
    columns = re.search(
        r"INSERT INTO appointments_appointment\s*\(([^)]*)\)", booking.BOOK.positional
    ).group(1)
    inserted = {name.strip() for name in columns.split(",")}
    concrete = {f.column for f in Appointment._meta.concrete_fields if not f.primary_key}
    assert inserted == concrete


def test_the_statement_takes_exactly_its_declared_parameters():
    assert set(booking.BOOK.names) == set(booking._TYPES)
    numbers = {int(n) for n in re.findall(r"\$(\d+)", booking.BOOK.positional)}
    assert numbers == set(range(1, len(booking._TYPES) + 1))


def test_the_rule_is_inlined_into_the_queries_that_use_it():
    """The SQL functions must stay plain SQL of one SELECT, STABLE, not STRICT: PostgreSQL
    then plans them inside the booking statement (a function call per booking would be
    planned afresh each time, in the middle of a reopening rush)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN SELECT 1 FROM epassport_bookable_slots(now()) WHERE id = 1")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Function Scan" not in plan
    assert "appointments_slot_pkey" in plan or "Index Scan" in plan
