"""Helpers shared by the tests of the public status page (test_status_page.py,
test_status_figures.py): the reopening after the suspension of November 2025, a suspension of
some offices, and the fragment of the page about one office."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments.models import Suspension
from core.models import Office

BAMAKO = ZoneInfo("Africa/Bamako")

# The reopening after the suspension of November 2025: Monday 24 at 07:30 in Bamako.
REOPENS_AT = datetime(2025, 11, 24, 7, 30, tzinfo=BAMAKO)


def suspend(*offices: Office, starts_at=None, reopens_at="in 3 days", **fields) -> Suspension:
    """A suspension of these offices (of every office when none is given), begun an hour
    ago unless `starts_at` says otherwise, reopening in three days unless `reopens_at` does."""
    now = timezone.now()
    if reopens_at == "in 3 days":
        reopens_at = now + timedelta(days=3)
    suspension = Suspension.objects.create(
        starts_at=starts_at or now - timedelta(hours=1),
        reopens_at=reopens_at,
        message=fields.pop("message", "Le service Premium est suspendu."),
        message_en=fields.pop("message_en", "The Premium service is suspended."),
        **fields,
    )
    suspension.offices.set(offices)
    return suspension


def _office(html: str, code: str) -> str:
    start = html.index(f'id="office-{code}"')
    return html[start : html.index("</li>", start)]
