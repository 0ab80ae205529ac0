"""A clean 503 while the database cannot be reached.

Django's handler500 (epassport/urls.py) is called for any exception a view or a middleware
lets through, while that exception is still being handled. When it is the database's
(`OperationalError`: the server is down, restarting, refused or dropped the connection, or
a lock or deadlock made the statement give up; `InterfaceError`: the connection is closed),
the answer is a 503 saying to try again shortly: a page for people, `{"code":
"unavailable"}` under /api/. Anything else stays a 500.

Nothing has to be restarted afterwards: Django closes a connection that failed at the end of
the request, and CONN_HEALTH_CHECKS replaces a kept connection the server dropped at the
start of the next one (tests/test_database_restart.py restarts PostgreSQL under load).
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

DATABASE_ERRORS = (OperationalError, InterfaceError)
# Seconds a client is asked to wait (a restart of PostgreSQL takes a few).
RETRY_AFTER = 30


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 when the database failed, Django's 500 page otherwise."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return unavailable(request)
    return defaults.server_error(request)


def unavailable(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {
            "code": "unavailable",
            "detail": _("Service momentanément indisponible. Réessayez dans une minute."),
        }
        response: HttpResponse = JsonResponse(body, status=503)
    else:
        # Rendered without the context processors: the session, the user and the messages
        # all live in the database.
        context = {"request": request, "retry_url": request.get_full_path()}
        response = HttpResponse(loader.get_template("503.html").render(context), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response
