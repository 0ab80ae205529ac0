from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import selectors
from .models import Office


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    groups = selectors.offices_now()
    return render(
        request,
        "appointments/home.html",
        {
            "groups": [
                {
                    "key": "centres",
                    "title": _("Centres de production au Mali"),
                    "items": groups[Office.Kind.CENTRE],
                },
                {
                    "key": "missions",
                    "title": _("Ambassades et consulats à l’étranger"),
                    "items": groups[Office.Kind.MISSION],
                },
            ]
        },
    )
