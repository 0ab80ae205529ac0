"""The OpenAPI schema generates without a warning and documents every endpoint of the API."""

import pytest
import yaml
from django.core.management import call_command

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
    assert set(paths["/api/v1/bookings/"]["post"]["responses"]) == {"201", "400", "409", "429"}
    reschedule = paths["/api/v1/bookings/{reference}/reschedule/"]["post"]
    assert {"200", "400", "404", "409"} <= set(reschedule["responses"])
    headers = [p["name"] for p in reschedule["parameters"] if p["in"] == "header"]
    assert headers == ["X-Booking-Token"]
    slots = paths["/api/v1/offices/{code}/slots/"]["get"]
    assert {p["name"] for p in slots["parameters"] if p["in"] == "query"} == {"from", "to"}


@pytest.mark.django_db
def test_the_schema_and_its_docs_are_served(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert set(API_PATHS) <= set(response.json()["paths"])
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
