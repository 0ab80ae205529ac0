"""A NUL byte (%00) in any address or query, on every URL pattern of the portal, logged in as
staff (so that staff views are reached, not the login page): never a server error, and
under /api/ the API's JSON error shape. PostgreSQL refuses NUL in a string, so before
core/early_refusals.py about a dozen routes answered an HTML 500."""

import json
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern, RoutePattern
from rest_framework.authtoken.models import Token

from appointments.tests.factories import member, paris_consulate

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"<(?:[^:>]+:)?[^>]+>")


def route_templates(patterns=None, prefix: str = "") -> list[str]:
    """Every route as a path template (`rendez-vous/<str:reference>/...`); the admin's few
    regular expressions are left out (the admin looks objects up by number)."""
    templates = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        pattern = entry.pattern
        if isinstance(pattern, LocalePrefixPattern):
            part = ""  # French, the default language, has no prefix
        elif isinstance(pattern, RoutePattern):
            part = str(pattern)
        else:
            continue
        if isinstance(entry, URLResolver):
            templates += route_templates(entry.url_patterns, prefix + part)
        elif isinstance(entry, URLPattern):
            templates.append(prefix + part)
    return sorted(set(templates))


def probes() -> list[str]:
    paths = []
    for template in route_templates():
        path = "/" + PARAMETER.sub("%00", template)
        if path != "/" + template:
            paths.append(path)  # NUL in each parameter
        paths.append("/" + PARAMETER.sub("x", template) + "?q=%00&reference=DDEMO%0000001")
    return paths


def test_the_probes_cover_the_routes_that_failed():
    found = set(probes())
    for path in [
        "/api/v1/offices/%00/slots/",
        "/api/v1/files/%00/",
        "/api/v1/appointments/%00/check-in/",
        "/api/v1/appointments/%00/enrol/",
        "/staff/dossiers/%00/",
        "/staff/dossiers/?q=%00&reference=DDEMO%0000001",
        "/api/v1/track/?q=%00&reference=DDEMO%0000001",
    ]:
        assert path in found, path
    assert any(p.startswith("/rendez-vous/%00/%00/") for p in found)


@pytest.fixture
def staff_client():
    agent = member("agent", paris_consulate(), username="awa")
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent).key}")
    client.force_login(agent)
    return client


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_nul_byte_anywhere_is_a_4xx_in_the_routes_format(staff_client, method, settings):
    settings.RATE_LIMITS = False
    failures = []
    for path in probes():
        response = getattr(staff_client, method)(path)
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {path}: {response.status_code}")
        elif "%00" in path.split("?")[0] and response.status_code != 404:
            failures.append(f"{method.upper()} {path}: {response.status_code}, not 404")
        elif path.startswith("/api/v1/") and "code" not in response.json():
            failures.append(f"{method.upper()} {path}: no JSON code")
    assert not failures, "\n".join(failures)


def test_the_answers_say_what_is_wrong(staff_client):
    api_path = staff_client.get("/api/v1/files/%00/")
    assert api_path.status_code == 404
    assert api_path.json()["code"] == "not_found"
    api_query = staff_client.get("/api/v1/track/?reference=DDEMO%0000001&birth_date=1990-01-01")
    assert api_query.status_code == 400
    assert api_query.json()["code"] == "invalid"
    page = staff_client.get("/staff/dossiers/?q=%00")
    assert page.status_code == 400
    assert "caractère nul" in page.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/bookings/", "/api/v1/auth/token/"])
def test_a_body_over_the_limit_is_413_in_the_apis_shape(client, path, settings):
    body = json.dumps({"surname": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["detail"]
