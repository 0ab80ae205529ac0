"""The rules of a staff session, checked at every request of a logged-in member of staff
(applicants never log in: their pages keep no state in a session).

- Lifetime: a session ends STAFF_SESSION_IDLE_MINUTES after its last request and, whatever
  the activity, STAFF_SESSION_MAX_HOURS after the login. The time of the last request is
  written at most once a minute (not a session write per request), so the idle limit is
  kept within that minute.
- Second factor: a supervisor or administrator (access.two_factor_required) whose session
  has not proved a code can do nothing but enrol a device (`staff:two-factor`) or log out;
  one who has a device but a session without its code (a session older than the device)
  is logged out and asked to log in with the code. The API does not take such a session
  (401, as without one).
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import access, twofactor

LOGIN_AT = "staff_login_at"
SEEN_AT = "staff_seen_at"
SEEN_WRITE_INTERVAL = 60  # seconds
# What a session waiting for its second factor may still reach.
PENDING_VIEWS = frozenset({"staff:two-factor", "staff:logout", "set_language"})


@receiver(user_logged_in, dispatch_uid="core.staff_sessions.logged_in")
def _on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now


def _expired(session, now: float) -> bool:
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        # A session opened before these rules: its clock starts now.
        session[LOGIN_AT] = session[SEEN_AT] = now
        return False
    return (
        now - login_at > settings.STAFF_SESSION_MAX_HOURS * 3600
        or now - seen_at > settings.STAFF_SESSION_IDLE_MINUTES * 60
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _view_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None


def _to_login(request: HttpRequest, message: str) -> HttpResponse:
    logout(request)
    messages.info(request, message)
    return redirect(f"{reverse('staff:login')}?{urlencode({'next': request.get_full_path()})}")


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)

        now = time.time()
        if _expired(request.session, now):
            if _is_api(request):
                logout(request)
                return self.get_response(request)
            return _to_login(request, _("Votre session a expiré. Reconnectez-vous."))
        if now - request.session[SEEN_AT] >= SEEN_WRITE_INTERVAL:
            request.session[SEEN_AT] = now

        # Verified sessions (most of a supervisor's requests) cost no query here.
        if not user.is_verified() and access.two_factor_required(user):
            if _is_api(request):
                request.user = AnonymousUser()  # the API answers 401 not_authenticated
                return self.get_response(request)
            if twofactor.confirmed_device(user) is not None:
                return _to_login(request, _("Connectez-vous avec le code de votre application."))
            if _view_name(request) not in PENDING_VIEWS:
                url = reverse("staff:two-factor")
                return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
