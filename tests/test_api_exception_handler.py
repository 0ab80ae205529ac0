"""The one exception handler of the API (core/api.py): every error becomes
`{"code": ..., "detail": ...}` with its status."""

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions

from appointments.errors import NotChangeable
from core.api import exception_handler
from core.errors import DomainError

# The exception handler ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
        (DjangoPermissionDenied(), 403, "permission_denied"),
        (exceptions.NotFound(), 404, "not_found"),
        (Http404("nothing"), 404, "not_found"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (exceptions.NotAcceptable(), 406, "not_acceptable"),
        (exceptions.UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
        (exceptions.Throttled(wait=30), 429, "rate_limited"),
        (exceptions.ParseError("JSON parse error - line 1"), 400, "invalid"),
        (exceptions.ValidationError({"slot": ["bad"]}), 400, "invalid"),
        (DomainError("Refusé."), 400, "error"),
        (NotChangeable(), 409, "not_changeable"),
    ],
)
def test_every_error_has_its_status_code_and_detail(error, status, code):
    response = exception_handler(error, {})
    assert response.status_code == status
    assert response.data["code"] == code
    assert isinstance(response.data["detail"], str)
    assert response.data["detail"]


def test_the_handler_keeps_retry_after_and_field_messages():
    throttled = exception_handler(exceptions.Throttled(wait=30), {})
    assert throttled["Retry-After"] == "30"
    errors = exception_handler(exceptions.ValidationError({"slot": ["Créneau inconnu."]}), {})
    assert errors.data["fields"] == {"slot": ["Créneau inconnu."]}
    loose = exception_handler(exceptions.ValidationError("Tout est faux."), {})
    assert loose.data["fields"] == {"non_field_errors": ["Tout est faux."]}
    parse = exception_handler(exceptions.ParseError("JSON parse error - line 1"), {})
    assert parse.data["detail"] == "Requête malformée."


def test_the_handler_leaves_unknown_exceptions_to_django():
    assert exception_handler(RuntimeError("bug"), {}) is None
