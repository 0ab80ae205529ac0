"""Read queries about offices and booking that more than one caller needs."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from .models import Office


def office_list_public() -> QuerySet[Office]:
    """Offices an applicant may see: the active ones, centres first, in a stable order."""
    return Office.objects.filter(active=True).order_by("kind", "city", "name")


def office_booking_open(*, office: Office, now: datetime | None = None) -> bool:
    """Whether Premium booking is open at this office right now.

    Computed, never stored, so that it is right the moment a closure ends.
    """
    return office.active


def utc_offset_label(moment: datetime) -> str:
    """'UTC', 'UTC+1', 'UTC-5', 'UTC+5:30' for a timezone-aware datetime."""
    offset = moment.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@dataclass(frozen=True)
class OfficeNow:
    """An office as the home page shows it: its local time now and whether booking is open."""

    office: Office
    local_time: datetime
    offset_label: str
    booking_open: bool


def offices_now(*, now: datetime | None = None) -> dict[str, list[OfficeNow]]:
    """Active offices grouped by kind, each with its local time; one query in all."""
    now = now or timezone.now()
    groups: dict[str, list[OfficeNow]] = {kind: [] for kind in Office.Kind.values}
    for office in office_list_public():
        local = now.astimezone(office.timezone)
        groups[office.kind].append(
            OfficeNow(
                office=office,
                local_time=local,
                offset_label=utc_offset_label(local),
                booking_open=office_booking_open(office=office, now=now),
            )
        )
    return groups
