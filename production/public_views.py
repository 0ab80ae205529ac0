"""The public status page: for applicants, whether each office is open or suspended and how
production is going, in aggregate figures only. No account, no JavaScript."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from appointments.models import Office

from . import selectors


@require_GET
def status(request: HttpRequest) -> HttpResponse:
    statuses = selectors.public_status()
    return render(
        request,
        "production/status.html",
        {
            "groups": [
                {
                    "key": "centres",
                    "title": _("Centres de production au Mali"),
                    "items": statuses[Office.Kind.CENTRE],
                },
                {
                    "key": "missions",
                    "title": _("Ambassades et consulats à l’étranger"),
                    "items": statuses[Office.Kind.MISSION],
                },
            ]
        },
    )
