"""The OpenAPI schema generates without a warning and documents every endpoint of the API;
/api/schema/ serves it whole to staff and only its public part to anyone else."""

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from appointments.tests.factories import OfficeFactory, member
from production.schema import PUBLIC_PATH_PREFIXES

API_PATHS = {
    "/api/v1/offices/": {"get"},
    "/api/v1/offices/{code}/slots/": {"get"},
    "/api/v1/bookings/": {"post"},
    "/api/v1/bookings/{reference}/": {"get"},
    "/api/v1/bookings/{reference}/confirm/": {"post"},
    "/api/v1/bookings/{reference}/cancel/": {"post"},
    "/api/v1/bookings/{reference}/reschedule/": {"post"},
    "/api/v1/challenge/": {"get"},
    "/api/v1/auth/token/": {"post"},
    "/api/v1/agenda/": {"get"},
    "/api/v1/appointments/{reference}/check-in/": {"post"},
    "/api/v1/appointments/{reference}/enrol/": {"post"},
    "/api/v1/files/": {"get"},
    "/api/v1/files/{reference}/": {"get"},
    "/api/v1/files/{reference}/transition/": {"post"},
    "/api/v1/files/bulk-transition/": {"post"},
    "/api/v1/backlog/": {"get"},
    "/api/v1/waiting-room/{code}/": {"post"},
    "/api/v1/waiting-room/{code}/{ticket}/": {"get"},
}


def test_the_schema_validates_without_warnings_and_lists_every_path(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn turns any warning (an unguessable serializer, a path parameter without
    # a type, an enum collision...) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    for path, methods in API_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path


def test_the_documented_answers_of_booking(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    booking = paths["/api/v1/bookings/"]["post"]
    assert set(booking["responses"]) == {"201", "400", "403", "409", "429"}
    assert [p["name"] for p in booking["parameters"] if p["in"] == "header"] == ["X-Admission"]
    reschedule = paths["/api/v1/bookings/{reference}/reschedule/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(reschedule["responses"])
    headers = [p["name"] for p in reschedule["parameters"] if p["in"] == "header"]
    assert sorted(headers) == ["X-Admission", "X-Booking-Token"]  # a move near a reopening too
    slots = paths["/api/v1/offices/{code}/slots/"]["get"]
    assert {p["name"] for p in slots["parameters"] if p["in"] == "query"} == {"from", "to"}


PUBLIC_PATHS = {
    "/api/v1/offices/",
    "/api/v1/offices/{code}/slots/",
    "/api/v1/bookings/",
    "/api/v1/bookings/{reference}/",
    "/api/v1/bookings/{reference}/cancel/",
    "/api/v1/bookings/{reference}/reschedule/",
    "/api/v1/bookings/{reference}/confirm/",
    "/api/v1/bookings/{reference}/notifications/",
    "/api/v1/challenge/",
    "/api/v1/track/",
    "/api/v1/waiting-room/{code}/",
    "/api/v1/waiting-room/{code}/{ticket}/",
}


def served_schema(client, **headers) -> dict:
    response = client.get("/api/schema/", {"format": "json"}, **headers)
    assert response.status_code == 200
    assert "Authorization" in response["Vary"]
    assert "Cookie" in response["Vary"]
    assert "private" in response["Cache-Control"]
    return response.json()


@pytest.mark.django_db
def test_a_member_of_staff_gets_the_whole_schema_and_its_docs(client):
    client.force_login(member("agent", OfficeFactory(code="paris-consulat")))
    assert set(API_PATHS) <= set(served_schema(client)["paths"])
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    # The page's script is an answer of its own (no inline script under the CSP).
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"/api/schema/" in script.content


@pytest.mark.django_db
def test_a_staff_token_gets_the_whole_schema(client):
    token = Token.objects.create(user=member("operator", OfficeFactory(code="bko-centre")))
    schema = served_schema(client, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert set(API_PATHS) <= set(schema["paths"])


@pytest.mark.django_db
def test_anyone_else_gets_only_the_public_part(client):
    anonymous = served_schema(client)
    assert set(anonymous["paths"]) >= PUBLIC_PATHS
    staff_paths = set(API_PATHS) - PUBLIC_PATHS
    assert staff_paths
    assert not staff_paths & set(anonymous["paths"])
    assert all(path.startswith(PUBLIC_PATH_PREFIXES) for path in anonymous["paths"])
    # Nor the staff API's shapes, through the components.
    components = set(anonymous["components"]["schemas"])
    assert components
    assert not components & {"FileDetail", "File", "AgendaItem", "Token", "BulkTransition"}
    # An account that is no member of staff is anyone else.
    client.force_login(User.objects.create_user("visitor", password="pw"))
    assert not staff_paths & set(served_schema(client)["paths"])
    assert client.get("/api/docs/").status_code == 200
