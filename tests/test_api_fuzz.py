"""The whole API fuzzed from its own OpenAPI schema (schemathesis): whatever the input, the
answer is never a server error, and its status code, content type and body are the ones
the schema gives. Run against the real database, as a member of staff."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from appointments.tests.factories import OfficeFactory, SlotFactory, member
from epassport.wsgi import application


@pytest.fixture
def api_schema(settings, db):
    # Loaded when the test runs (the test settings, hosts included, are in place by then),
    # by a member of staff: anyone else is served only the public part of the schema.
    reader = Token.objects.create(user=member("admin", username="schema-reader"))
    settings.ALLOWED_HOSTS = ["*"]
    settings.BOOKING_CHALLENGE = False
    settings.RATE_LIMITS = False
    # Requests go straight to the WSGI application, which would close the test's database
    # connection at the end of each one: keep it, as Django's test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi(
            "/api/schema/", application, headers={"Authorization": f"Token {reader.key}"}
        )
    finally:  # even if the schema fails to load: other tests need Django's own handlers
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token(db):
    office = OfficeFactory(code="paris-consulat")
    SlotFactory(office=office)
    return Token.objects.create(user=member("agent", office, username="fuzz-agent")).key


@pytest.fixture
def admin_token(db):
    return Token.objects.create(user=member("admin", username="fuzz-admin")).key


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _fuzz(operations, headers: dict) -> None:
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def no_server_error(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)

        no_server_error()


@pytest.mark.django_db
def test_no_input_makes_a_server_error(api_schema, staff_token):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    _fuzz(operations, {"Authorization": f"Token {staff_token}"})


@pytest.mark.django_db
def test_no_input_from_an_administrator_makes_a_server_error(api_schema, admin_token):
    """The operations only administrators reach past their 403 (suspensions)."""
    operations = [
        result.ok()
        for result in api_schema.get_all_operations()
        if result.ok().path.startswith("/api/v1/suspensions/")
    ]
    assert len(operations) == 5
    _fuzz(operations, {"Authorization": f"Token {admin_token}"})


@pytest.mark.django_db
def test_no_input_from_a_supervisor_makes_a_server_error(api_schema):
    """The backlog, which only supervisors and administrators reach past their 403."""
    office = OfficeFactory(code="paris-consulat")
    token = Token.objects.create(user=member("supervisor", office, username="fuzz-supervisor"))
    operations = [
        result.ok()
        for result in api_schema.get_all_operations()
        if result.ok().path == "/api/v1/backlog/"
    ]
    assert len(operations) == 1
    _fuzz(operations, {"Authorization": f"Token {token.key}"})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "method", "case"),
    [
        # A page past the last one.
        ("/api/v1/files/", "GET", {"query": {"page": 9999}}),
        ("/api/v1/files/", "GET", {"query": {"page": "zero"}}),
        # An empty reference among the files of a bulk move: its error is in the schema's shape.
        ("/api/v1/files/bulk-transition/", "POST", {"body": {"files": [""], "to": "queued"}}),
        ("/api/v1/files/bulk-transition/", "POST", {"body": {"files": ["A", ""], "to": "x"}}),
        ("/api/v1/suspensions/{id}/", "GET", {"path_parameters": {"id": -1}}),
    ],
)
def test_answers_the_fuzzer_found_match_the_schema(api_schema, staff_token, path, method, case):
    operation = api_schema[path][method]
    made = operation.Case(**case)
    response = made.call(headers={"Authorization": f"Token {staff_token}"})
    assert 400 <= response.status_code < 500
    made.validate_response(response, checks=CHECKS)
