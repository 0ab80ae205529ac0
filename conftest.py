"""Project-wide pytest fixtures: a real PostgreSQL and a real Redis, never mocks."""

import uuid

import pytest

from core.i18n import compile_messages


def pytest_configure(config):
    compile_messages()  # tests always see the catalogues as they are in locale/*.po


@pytest.fixture(autouse=True)
def _french_by_default():
    # A request in English leaves English active in the thread; every test starts in French.
    from django.utils import translation

    translation.activate("fr")
    yield
    translation.activate("fr")


@pytest.fixture(autouse=True)
def _nothing_kept_by_the_process():
    # The web processes keep offices and free slots for a moment (appointments.selectors,
    # appointments.api.views); every test starts as a fresh process would.
    from appointments import selectors
    from appointments.api import views

    selectors.forget_kept()
    views.forget_kept()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Hashing passwords slowly protects them; in tests it only slows the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Static files straight from the finders (no collectstatic manifest in tests).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # A key prefix of its own for each test: tests never see each other's cache entries nor
    # those of a portal running against the same Redis.
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }
    # The tracking estimate reads the queues afresh at each lookup (a test changes them).
    settings.TRACKING_SCHEDULE_TTL = 0
    # Bookings are booked at once; the tests of contact verification turn it on.
    settings.BOOKING_VERIFY_CONTACT = False
    # SMS go to the countries of the tests' numbers, whatever offices a test made: the
    # default (the active offices' countries) would refuse a Malian number at a test's lone
    # Paris office, where in production Mali's centres are always there. The tests of
    # SMS_ALLOWED_COUNTRIES (appointments/tests/test_sms_countries.py) set their own.
    settings.SMS_ALLOWED_COUNTRIES = ["ML", "FR", "US"]
    # Codes are not pushed to the machine's Redis, where no worker of the test's database
    # would take them; the tests of the push turn it on (test_outbox_priority.py).
    settings.OUTBOX_PUSH = False


@pytest.fixture
def freeze(request):
    """Travel to a fixed instant: `freeze("2025-11-24T07:30:00Z")`."""
    import time_machine

    travellers = []

    def travel(destination, tick: bool = False):
        traveller = time_machine.travel(destination, tick=tick)
        traveller.start()
        travellers.append(traveller)
        return traveller

    yield travel
    for traveller in reversed(travellers):
        traveller.stop()
