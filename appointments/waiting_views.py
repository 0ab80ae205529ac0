"""The waiting room's page (appointments/waiting_room/): take a place, watch it move, and
go on to book once admitted. No JavaScript: the page reloads itself (`<meta
http-equiv="refresh">`), and each reload is one read and no write.

The place lives in an HttpOnly cookie of this browser, never in the address: a person who
sends the page's address to someone else sends no place."""

import math
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from core import clients
from core.errors import NotFound
from core.models import Office

from . import protection, waiting_room

NEXT_PARAMETER = "suite"


def _next_url(request: HttpRequest, office: Office) -> str:
    """Where to go once admitted: the booking page the person came from (one of this
    office's pages), else the office's page."""
    office_url = reverse("appointments:office", kwargs={"code": office.code})
    target = request.POST.get(NEXT_PARAMETER) or request.GET.get(NEXT_PARAMETER) or ""
    if target.startswith(office_url) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return office_url


def waiting_room_url(office: Office, *, next_url: str = "") -> str:
    url = reverse("appointments:waiting-room", kwargs={"code": office.code})
    if next_url:
        url += "?" + urlencode({NEXT_PARAMETER: next_url})
    return url


def _set_cookie(response: HttpResponse, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=waiting_room.cookie_max_age(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def waiting_room_page(request: HttpRequest, code: str) -> HttpResponse:
    office = get_object_or_404(Office, code=code, active=True)
    now = timezone.now()
    next_url = _next_url(request, office)
    context = {
        "office": office,
        "next_url": next_url,
        "expired": False,
        "admission_minutes": settings.ADMISSION_MINUTES,
        "grace_minutes": max(1, math.ceil(waiting_room.grace_seconds() / 60)),
    }
    place = None
    try:
        place = waiting_room.place_of(
            credential=request.COOKIES.get(waiting_room.ticket_cookie(office.pk)),
            office_id=office.pk,
            now=now,
        )
    except NotFound:
        pass
    except waiting_room.AdmissionExpired:
        context["expired"] = True

    if request.method == "POST" and (place is None or place.state == waiting_room.State.OPEN):
        if clients.rate_limited(
            request, group=protection.AVAILABILITY_GROUP, rate=settings.AVAILABILITY_RATE
        ):
            return render(request, "appointments/too_many.html", status=429)
        try:
            place = waiting_room.ticket_issue(
                office_id=office.pk,
                network=clients.hold_network(request),
                address=clients.client_ip("", request),
                now=now,
            )
        except waiting_room.WaitingRoomFullNetwork as error:
            context["error"] = error.detail
            response = render(request, "appointments/waiting_room.html", context, status=429)
            response["Retry-After"] = str(error.extra["retry_after"])
            return _no_store(response)
        response = redirect(waiting_room_url(office, next_url=next_url))
        if place.ticket:
            _set_cookie(response, waiting_room.ticket_cookie(office.pk), place.ticket)
        return response
    if request.method == "POST":  # this browser has its place already
        return redirect(waiting_room_url(office, next_url=next_url))

    if place is None:
        if waiting_room.window_at(office_id=office.pk, now=now) is None:
            return redirect(next_url)  # no waiting room now: straight on
        return _no_store(render(request, "appointments/waiting_room.html", context))
    if place.state == waiting_room.State.OPEN:
        return redirect(next_url)
    context["place"] = place
    if place.grace_seconds is not None:
        context["grace_minutes"] = max(1, math.ceil(place.grace_seconds / 60))
    if place.estimated_wait_seconds is not None:
        context["wait_minutes"] = math.ceil(place.estimated_wait_seconds / 60)
    response = render(request, "appointments/waiting_room.html", context)
    if place.state == waiting_room.State.ADMITTED:
        _set_cookie(response, waiting_room.admission_cookie(office.pk), place.admission)
    return _no_store(response)
