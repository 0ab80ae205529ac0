"""The public status page: for applicants, whether each office is open or suspended and how
production is going, in aggregate figures only. No account, no JavaScript."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from appointments import selectors as office_selectors

from . import selectors


@require_GET
def status(request: HttpRequest) -> HttpResponse:
    groups = office_selectors.office_groups(selectors.public_status())
    return render(request, "production/status.html", {"groups": groups})
