"""The one exception handler of the API (REST_FRAMEWORK["EXCEPTION_HANDLER"]).

Every error leaves as `{"code": ..., "detail": ...}` plus the extras of its kind, with the
right 4xx status: domain errors raised by services (core.errors.DomainError and its
subclasses) and DRF's own errors alike. Codes are stable English identifiers that other
systems test; details are for people, in the request's language (French by default).
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from .errors import DomainError

# DRF exception class -> our code, where DRF's default code is not the one we publish.
CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "invalid",
    exceptions.Throttled: "rate_limited",
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn an exception raised in an API view into its JSON error response; None (a 500,
    logged by Django) for anything that is not a known error."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(_domain_body(exc), status=exc.status, headers=_domain_headers(exc))

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    code = _code_of(exc)
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "code": code,
            "detail": _("Certaines données sont invalides."),
            "fields": _fields(exc.detail),
        }
    elif isinstance(exc, exceptions.ParseError):
        # DRF's parse messages are English and technical; its default one is translated.
        body = {"code": code, "detail": str(exceptions.ParseError.default_detail), "fields": {}}
    else:
        body = {"code": code, "detail": str(exc.detail)}
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def _code_of(exc: exceptions.APIException) -> str:
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]
    return exc.default_code


def _fields(detail: Any) -> dict[str, list[str]]:
    """Field errors as `{field: [messages]}`, the shape the schema gives; errors not tied to
    a field under `non_field_errors`, as DRF names them. Errors of an item of a list or of a
    nested object are under the dotted path to it (`files.0`), never nested."""
    if not isinstance(detail, dict):
        return {"non_field_errors": _messages(detail)}
    flat: dict[str, list[str]] = {}
    for name, errors in detail.items():
        if isinstance(errors, dict):
            for path, messages in _fields(errors).items():
                flat[f"{name}.{path}"] = messages
        else:
            flat[str(name)] = _messages(errors)
    return flat


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, dict):
        return [message for messages in _fields(errors).values() for message in messages]
    if not isinstance(errors, list):
        errors = [errors]
    return [str(error) for error in errors]


def domain_error_response(exc: DomainError) -> HttpResponse:
    """The answer exception_handler gives to `exc`, the same bytes and headers, for a view
    that refuses a request before DRF's request, negotiation and rendering cost anything
    (appointments.api.bookings.BookingCreateView)."""
    response = HttpResponse(
        JSONRenderer().render(_domain_body(exc)),
        status=exc.status,
        content_type="application/json",
        headers=_domain_headers(exc),
    )
    return response


def _domain_headers(exc: DomainError) -> dict[str, str] | None:
    retry_after = exc.extra.pop("retry_after", None)
    return {"Retry-After": str(retry_after)} if retry_after else None


def _domain_body(exc: DomainError) -> dict[str, Any]:
    # Each error shapes its own extras (appointments.errors.SlotFull its next free slots).
    return exc.as_dict()


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: under /api/ an unknown address is the API's own `not_found` (JSON, as the
    schema gives it); elsewhere the page of templates/404.html, in the request's language."""
    if request.path.startswith("/api/"):
        body = {"code": "not_found", "detail": str(exceptions.NotFound.default_detail)}
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


# The shapes of its bodies, for the schema ----------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable identifier of the error.")
    detail = serializers.CharField(help_text="Message for people, in the request language.")


class InvalidErrorSerializer(ErrorSerializer):
    fields_ = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages by field name (`code` is `invalid`).",
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["fields"] = fields.pop("fields_")  # `fields` is an attribute of serializers
        return fields
