"""Requests refused before any view, once for every route, each in the route's own format (the
API's JSON error shape under /api/, a plain answer elsewhere):

- a NUL byte in the path: 404, as for any address that does not exist (core.api.
  page_not_found answers the API's JSON `not_found` under /api/); PostgreSQL refuses NUL
  in a string, so a view that looked it up would answer 500;
- a NUL byte in the query string (%00): 400 `invalid`, with the parameters that hold one
  in `fields` under /api/ (as any invalid parameter);
- a body longer than DATA_UPLOAD_MAX_MEMORY_SIZE (Django's 2.5 MB; the portal's bodies are
  a few kilobytes): 413 `too_large`, from its Content-Length, before it is read (Django
  would answer an HTML 400 once a view read it).

Form and JSON fields need nothing here: Django's and DRF's text fields refuse NUL with a
field error already."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

# Percent-encoded in a query string (a literal NUL cannot travel in an HTTP request line).
_ENCODED_NUL = "%00"


class EarlyRefusalMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            raise Http404(_("Adresse inconnue."))
        if _ENCODED_NUL in request.META.get("QUERY_STRING", ""):
            detail = _("La requête contient un caractère nul (%00), refusé.")
            fields = {
                name: [_("Caractère nul refusé.")]
                for name, values in request.GET.lists()
                if any("\x00" in value for value in values) or "\x00" in name
            }
            return _refusal(request, 400, "invalid", detail, fields=fields)
        if _too_long(request):
            detail = _("Requête trop volumineuse : %(limit)s octets au plus.") % {
                "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            }
            return _refusal(request, 413, "too_large", detail)
        return self.get_response(request)


def _too_long(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


def _refusal(
    request: HttpRequest, status: int, code: str, detail: str, fields: dict | None = None
) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {"code": code, "detail": detail}
        if fields:
            # A name with NUL in it is shown with U+FFFD: JSON can carry NUL, clients' logs
            # and databases often cannot.
            body["fields"] = {
                name.replace("\x00", "\ufffd"): errors for name, errors in fields.items()
            }
        return JsonResponse(body, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")
