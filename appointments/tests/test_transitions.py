"""An appointment's status changes only by the moves of appointments/transitions.py, and every
change leaves an event saying who, when and why, whichever path made it: PostgreSQL refuses
the others and writes the events (migration 0019)."""

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from appointments import services, transitions
from appointments.models import Appointment, AppointmentEvent
from appointments.tests.factories import SlotFactory, applicant, book, displace, member

pytestmark = pytest.mark.django_db

S = Appointment.Status
TRIGGER_FUNCTION = "appointments_appointment_moved"


def events(appointment) -> list[tuple]:
    return list(
        AppointmentEvent.objects.filter(appointment=appointment)
        .order_by("pk")
        .values_list("from_status", "to_status", "action", "by_id", "note")
    )


def test_the_trigger_allows_exactly_the_moves_of_the_table():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'appointments_appointment_moved'"
        )
        (source,) = cursor.fetchone()
    in_trigger = set(re.findall(r"\('(\w+)', '(\w+)', '([\w-]+)'\)", source))
    in_table = {
        (start, to, action) for (start, to), acts in transitions.MOVES.items() for action in acts
    }
    assert in_trigger == in_table


def test_a_move_outside_the_table_is_refused_even_typed_by_hand():
    appointment, _token = book()
    services.booking_cancel(appointment=appointment)
    by_hand = (
        "SELECT set_config('epassport.event_action', 'rebook', true);"
        " UPDATE appointments_appointment SET status = 'booked' WHERE id = %s"
    )
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(by_hand, [appointment.pk])
    assert refused.value.__cause__.diag.constraint_name == "appointment_move_allowed"
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED


def test_a_move_that_names_no_action_is_refused():
    appointment, _token = book()
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(status=S.CANCELLED)
    assert refused.value.__cause__.diag.constraint_name == "appointment_move_allowed"
    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED
    assert events(appointment) == []


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_recorded_needs_a_transaction_and_a_known_action():
    outside = transitions.recorded(action=transitions.CANCEL)
    with pytest.raises(transaction.TransactionManagementError):
        outside.__enter__()
    unknown = transitions.recorded(action="delete")
    with pytest.raises(ValueError, match="unknown action"), transaction.atomic():
        unknown.__enter__()


def test_the_holder_cancels_then_nothing_more_is_credited_to_that(settings):
    appointment, _token = book()
    services.booking_cancel(appointment=appointment)
    assert events(appointment) == [("booked", "cancelled", "cancel", None, "")]


def test_the_counter_moves_name_the_agent():
    slot = SlotFactory(starts_at=timezone.now() - timedelta(minutes=5))
    agent = member("agent", slot.office)
    checked, _t = book(slot=slot, now=slot.starts_at - timedelta(days=1))
    absent, _t = book(
        slot=slot,
        now=slot.starts_at - timedelta(days=1),
        national_id="NINA000002",
        phone="+22376000002",
        email="b@example.org",
    )
    services.appointment_check_in(appointment=checked, by=agent)
    services.appointment_no_show(appointment=absent, by=agent)
    assert events(checked) == [("booked", "checked_in", "check-in", agent.pk, "")]
    assert events(absent) == [("booked", "no_show", "no-show", agent.pk, "")]


def test_the_statements_of_the_services_leave_events_too():
    # The expiry of lapsed holds and a closure (displace), with no person behind them.
    now = timezone.now()
    slot = SlotFactory(starts_at=now + timedelta(days=2))
    hold, _t = services.booking_create(slot=slot, applicant=applicant(), verify=True, now=now)
    assert services.holds_expire(now=now + timedelta(hours=1)) == 1
    assert events(hold) == [("pending", "expired", "expire", None, "")]
    booked, _t = book(
        slot=slot, national_id="NINA000003", phone="+22376000003", email="c@example.org"
    )
    displace(booked)
    assert events(booked) == [("booked", "displaced", "displace", None, "")]


def test_an_event_keeps_the_time_the_service_gives():
    appointment, _token = book()
    at = timezone.now() - timedelta(minutes=3)
    services.booking_cancel(appointment=appointment, now=at)
    assert AppointmentEvent.objects.get(appointment=appointment).at == at
