from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from appointments import waiting_room
from appointments.models import Suspension
from appointments.tests.api_bookings import book
from appointments.tests.factories import CentreOfficeFactory, SlotFactory
from appointments.tests.sms_backends import BrokenProviderBackend, RecordingBackend
from appointments.tests.smtp_server import smtp_server
from appointments.tests.waiting_room_seats_support import GRACE
from appointments.tests.waiting_room_support import REOPENS_AT


@pytest.fixture
def protection_off(settings):
    """No proof of work and no rate limits, for tests of other behaviour."""
    settings.BOOKING_CHALLENGE = False
    settings.RATE_LIMITS = False


@pytest.fixture
def challenge_on(settings):
    settings.BOOKING_CHALLENGE = True
    settings.BOOKING_CHALLENGE_MAX_NUMBER = 2_000  # quick to solve in tests


@pytest.fixture
def verify_on(settings):
    """Contact verification on, as in production: a booking is pending until its code."""
    settings.BOOKING_VERIFY_CONTACT = True


@pytest.fixture
def push_state(settings):
    """The push on (tests turn it off), its per-process state (a broker that failed moments
    ago, a kept connection) forgotten before and after the test."""
    from appointments import notifications

    settings.OUTBOX_PUSH = True

    def forget():
        notifications._push_down_until = 0.0
        notifications._push_local.connection = None

    forget()
    yield
    forget()


@pytest.fixture
def api():
    # CSRF checks on, as for a browser: the public API must not need a CSRF token.
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def recorded(settings) -> list[tuple[str, str]]:
    """What the SMS provider is asked to send."""
    settings.SMS_BACKEND = f"{RecordingBackend.__module__}.RecordingBackend"
    RecordingBackend.sent = []
    return RecordingBackend.sent


@pytest.fixture
def sms_gateway_down(settings):
    settings.SMS_BACKEND = f"{BrokenProviderBackend.__module__}.BrokenProviderBackend"


@pytest.fixture
def slot():
    """A slot of 3 seats at the centre of Bamako."""
    return SlotFactory(office=CentreOfficeFactory(code="bko-centre"), capacity=3)


@pytest.fixture
def booking(api, slot):
    """A booking of `slot`: its reference and manage token."""
    body = book(api, slot).json()
    return body["reference"], body["manage_token"]


@pytest.fixture
def inbox(settings):
    """A real SMTP server on localhost receiving the portal's emails (smtp_server.Inbox)."""
    with smtp_server(settings) as handler:
        yield handler


# The waiting room (test_waiting_room.py, test_waiting_room_admissions.py) -------------------


@pytest.fixture
def fresh_draws():
    """No draw kept by this process from another test, before or after."""
    waiting_room.forget_draws()
    yield
    waiting_room.forget_draws()


@pytest.fixture
def office(db):
    """The centre of Bamako, where the tests of the waiting room take their places."""
    office = CentreOfficeFactory(code="bko-centre", name="Centre de Bamako")
    # Seats for everyone these tests let in: the line admits nobody for whom none is left
    # (the tests of that are in test_waiting_room_seats.py).
    start = REOPENS_AT + timedelta(days=3)
    SlotFactory(
        office=office, starts_at=start, ends_at=start + timedelta(minutes=15), capacity=5000
    )
    return office


@pytest.fixture
def suspension(office, freeze):
    """The service suspended for a week, reopening at 07:30; the clock ten minutes before."""
    freeze(REOPENS_AT - timedelta(minutes=10))
    suspension = Suspension.objects.create(
        starts_at=REOPENS_AT - timedelta(days=7), reopens_at=REOPENS_AT, message="Suspendu."
    )
    suspension.offices.set([office])
    return suspension


# The waiting room's seats (test_waiting_room_seats.py, test_waiting_room_grace.py) ----------


@pytest.fixture
def fresh_caches(settings):
    """A grace of GRACE seconds, and no draw kept by this process from another test."""
    settings.WAITING_ROOM_GRACE_SECONDS = GRACE
    waiting_room.forget_draws()
    yield
    waiting_room.forget_draws()
