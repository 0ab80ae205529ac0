from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis and Celery (worker and beat) are all ok, else 503."""
    report = health.report()
    status = 200 if all(value == "ok" for value in report.values()) else 503
    return JsonResponse(report, status=status)
