"""The public applicant API passes the middleware of accounts, second factors, staff
sessions, messages and static files straight on (core/public_api.py); every other path
goes through all of it, and the answers of the API keep their headers."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from appointments.tests.factories import CentreOfficeFactory
from core import public_api
from tests.support import log_in

pytestmark = pytest.mark.django_db

PASSED = ("auser", "_messages")  # what the passed middleware would have put on the request


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/offices/",
        "/api/v1/offices/bko-centre/slots/?from=2026-01-01&to=2026-01-02",
        "/api/v1/bookings/ABCD-EFGH/",
        "/api/v1/challenge/",
    ],
)
def test_the_public_api_passes_the_account_middleware_on(client, path):
    CentreOfficeFactory(code="bko-centre")
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (200, 404)
    request = response.wsgi_request
    assert [name for name in PASSED if hasattr(request, name)] == []
    # What stays: the policy headers, the language of the request, the metrics.
    assert "Content-Security-Policy" in response
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Language"] == "en"


def test_pages_and_the_staff_api_go_through_all_of_it(client):
    for path in ("/", "/api/v1/agenda/", "/staff/connexion/"):
        request = client.get(path).wsgi_request
        assert [name for name in PASSED if hasattr(request, name)] == list(PASSED), path


def test_the_second_factor_is_still_read_for_staff_pages(client):
    """django-otp's middleware still runs for the staff pages: an administrator signed in
    with a second factor is verified there."""
    admin = User.objects.create_superuser("admin.test", password="pw-1234-long-enough")
    log_in(client, admin)
    request = client.get("/staff/").wsgi_request
    assert request.user.is_authenticated
    assert request.user.is_verified()


def test_the_library_middleware_is_named_in_its_place():
    """Each class named in MIDDLEWARE is the library's own for other paths (a subclass): the
    admin's checks, which look for subclasses, still find them."""
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.messages.middleware import MessageMiddleware

    assert issubclass(public_api.AuthenticationMiddleware, AuthenticationMiddleware)
    assert issubclass(public_api.MessageMiddleware, MessageMiddleware)
    assert "core.public_api.AuthenticationMiddleware" in settings.MIDDLEWARE
    # Looked for by name by Django's and django-axes's checks: never replaced.
    for name in (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "axes.middleware.AxesMiddleware",
    ):
        assert name in settings.MIDDLEWARE
