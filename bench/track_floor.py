"""The floor of the tracking benchmark (bench/track.py).

A minimal view that does only what a lookup cannot avoid: read the file row by its
reference and its events, two SQL statements, and answer JSON. It checks the date of birth
as the portal does (a mismatch answers 404 like an unknown reference), but has no
serializer, no rate limit, no translation and no estimate. The benchmark measures it on the
same server, in the same run, as GET /api/v1/track/, so that the API's throughput is read as
a fraction of this floor rather than as a bare time on a noisy machine.

Served at /bench/track-floor/ by the benchmark's own settings (bench/settings.py,
bench/urls.py), never by the portal's.
"""

from datetime import date

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

_FILE = (
    "SELECT id, reference, status, birth_date FROM production_passportfile WHERE reference = %s"
)
_EVENTS = "SELECT to_status, at FROM production_fileevent WHERE file_id = %s ORDER BY at, id"


@require_GET
def track_floor(request: HttpRequest) -> JsonResponse:
    """GET ?reference=...&birth_date=YYYY-MM-DD: 200 {reference, status, timeline: [{status,
    at}]}; 404 {code: not_found} for an unknown reference or another date of birth; 400
    {code: invalid} for a malformed date."""
    try:
        birth_date = date.fromisoformat(request.GET.get("birth_date", ""))
    except ValueError:
        return JsonResponse({"code": "invalid"}, status=400)
    with connection.cursor() as cursor:
        cursor.execute(_FILE, [request.GET.get("reference", "")])
        row = cursor.fetchone()
        if row is None or row[3] != birth_date:
            return JsonResponse({"code": "not_found"}, status=404)
        cursor.execute(_EVENTS, [row[0]])
        events = cursor.fetchall()
    timeline = [{"status": status, "at": at.isoformat()} for status, at in events]
    return JsonResponse({"reference": row[1], "status": row[2], "timeline": timeline})
