"""Login lockout (django-axes), for the staff login, the admin's login and the token endpoint.

Failures are counted per pair (username, address) and per address, never per username
alone: usernames are easy to guess (`agent.bko`), and a lock on the name would let anyone
lock a member of staff out from anywhere. At LOGIN_FAILURE_LIMIT (AXES_FAILURE_LIMIT) within
LOGIN_LOCKOUT_MINUTES of each other, that pair or that address is refused for
LOGIN_LOCKOUT_MINUTES, even with the right password. The ministry's and the offices'
networks (STAFF_NETWORKS) are never locked as a whole: an attacker there only locks the
usernames it tried from its own address. A wrong second-factor
code counts as a failure too (core/staff_login.py, the token endpoint). Administrators
lift a lockout in the admin (Axes: access attempts, delete) or with `manage.py
axes_reset_username USERNAME` / `axes_reset_ip ADDRESS`.

The settings point here: AXES_CLIENT_IP_CALLABLE (the address, as the rate limits take it)
and AXES_LOCKOUT_CALLABLE (the answer: a page, or JSON `locked_out` for the API).
"""

import functools
import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from . import clients


class LockedOut(DomainError):
    code = "locked_out"
    status = 429
    default_detail = _(
        "Trop de tentatives de connexion : ce compte ou cette adresse est bloqué "
        "temporairement. Un administrateur peut lever le blocage."
    )


def lockout_seconds() -> int:
    return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_minutes() -> int:
    return math.ceil(lockout_seconds() / 60)


def locked_out() -> LockedOut:
    """The error to raise where a login is refused for a lockout (the token endpoint)."""
    detail = _(
        "Trop de tentatives de connexion : ce compte ou cette adresse est bloqué pendant "
        "%(minutes)s minutes. Un administrateur peut lever le blocage."
    ) % {"minutes": lockout_minutes()}
    return LockedOut(detail, retry_after=lockout_seconds())


def lockout_parameters(request_or_attempt, credentials=None) -> list:
    """What a failure counts against (AXES_LOCKOUT_PARAMETERS): the pair (username, address),
    and the address unless it is in STAFF_NETWORKS."""
    address = getattr(request_or_attempt, "axes_ip_address", None) or getattr(
        request_or_attempt, "ip_address", None
    )
    if _in_staff_networks(address):
        return [["username", "ip_address"]]
    return [["username", "ip_address"], "ip_address"]


def _in_staff_networks(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in _staff_networks(tuple(settings.STAFF_NETWORKS)))


@functools.lru_cache(maxsize=8)
def _staff_networks(entries: tuple[str, ...]):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_ip(request: HttpRequest) -> str | None:
    """The address a failure counts against: the one the rate limits count (behind the TLS
    proxy, the hop it wrote; an IPv6 address's /64). None for a request without one (a
    test client's force_login), which the attempts table could not store."""
    address = clients.client_ip("login", request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """What a locked-out login gets (AxesMiddleware calls this after the view): for the API,
    429 `{"code": "locked_out", "detail": ...}`; for the pages, a page saying so."""
    error = locked_out()
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": error.code, "detail": error.detail}, status=429)
    else:
        context = {"minutes": lockout_minutes(), "failure_limit": settings.AXES_FAILURE_LIMIT}
        response = render(request, "staff/locked_out.html", context, status=429)
    response["Retry-After"] = str(lockout_seconds())
    return response
