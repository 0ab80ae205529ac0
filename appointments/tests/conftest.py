import pytest
from rest_framework.test import APIClient

from appointments.tests.api_bookings import book
from appointments.tests.factories import CentreOfficeFactory, SlotFactory
from appointments.tests.sms_backends import BrokenProviderBackend, RecordingBackend
from appointments.tests.smtp_server import smtp_server


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
