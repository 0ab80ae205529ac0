"""Public holidays: each office closes on its country's, as the `holidays` package lists them
(Islamic holidays included where it has them: Eid al-Fitr, Tabaski, Mawlid in Mali, Senegal
and Côte d'Ivoire), as closures marked as coming from the holidays calendar.

The sync (periodic task *public holidays*, daily, and seed_demo) closes the holidays of the
next HOLIDAY_HORIZON_DAYS days: the booking horizon and a month more, so that a holiday is
closed before its slots exist and normally nobody has booked it. Should bookings exist all
the same (a first sync, a holiday the package learnt late), the closure displaces them as
any closure does: their applicants are told and choose a new time (services.closure_apply).

An administrator overrides a holiday by removing its closure (or by declaring it open
beforehand): a HolidayOverride row remembers it, and the sync leaves the day open. Removing
the override gives the day back to the calendar. A holiday closure whose day the package no
longer lists (an Islamic holiday's estimated date corrected by a new release) is removed.
"""

import logging
from datetime import date, timedelta

import holidays
from django.db import transaction
from django.utils import timezone

from core.models import Office

from ..models import Closure, HolidayOverride
from .calendar import SLOT_HORIZON_DAYS, closure_create, closure_delete, closure_remove

logger = logging.getLogger(__name__)

# The holidays of the month after the booking horizon are closed too: a holiday is closed a
# month before the nightly slot generation reaches it.
HOLIDAY_MARGIN_DAYS = 30
HOLIDAY_HORIZON_DAYS = SLOT_HORIZON_DAYS + HOLIDAY_MARGIN_DAYS
NAME_LENGTH = Closure._meta.get_field("reason").max_length


def _language(supported: tuple[str, ...], prefix: str) -> str | None:
    """The package's language for a country's names in French (`fr`, else `fr_SN`...) or in
    English (`en_US`, the same names everywhere, rather than `en_CI`); None: the country's
    own."""
    preferred = {"fr": "fr", "en": "en_US"}[prefix]
    if preferred in supported:
        return preferred
    return next((code for code in supported if code.split("_")[0] == prefix), None)


def public_holidays(country: str, first: date, last: date) -> dict[date, tuple[str, str]]:
    """The public holidays of a country (ISO 3166-1 code) from `first` to `last` included,
    each with its French and English names (a country the package does not know has
    none)."""
    try:
        calendar_class = type(holidays.country_holidays(country))
    except NotImplementedError:
        logger.warning("public holidays: the holidays package does not know %s", country)
        return {}
    years = range(first.year, last.year + 1)
    names = {}
    for prefix in ("fr", "en"):
        language = _language(calendar_class.supported_languages, prefix)
        names[prefix] = holidays.country_holidays(country, years=years, language=language)
    return {
        day: (name[:NAME_LENGTH], names["en"].get(day, name)[:NAME_LENGTH])
        for day, name in sorted(names["fr"].items())
        if first <= day <= last
    }


def holidays_sync(
    *, today: date | None = None, days: int = HOLIDAY_HORIZON_DAYS, offices=None
) -> int:
    """Close the public holidays of the next `days` days at the active offices (or these),
    except those an administrator kept open; remove the holiday closures of days no longer
    listed. Idempotent: a second run creates nothing. Returns the closures created."""
    offices = offices if offices is not None else Office.objects.filter(active=True)
    created = 0
    for office in offices:
        first = today or timezone.now().astimezone(office.timezone).date()
        created += _office_sync(office, first=first, last=first + timedelta(days=days))
    return created


@transaction.atomic
def _office_sync(office: Office, *, first: date, last: date) -> int:
    # One sync of an office at a time: two at once would both find a holiday missing.
    Office.objects.select_for_update().filter(pk=office.pk).first()
    wanted = public_holidays(str(office.country), first, last)
    kept_open = set(
        HolidayOverride.objects.filter(office=office, date__range=(first, last)).values_list(
            "date", flat=True
        )
    )
    closed = {
        closure.start_date: closure
        for closure in Closure.objects.filter(
            office=office, source=Closure.Source.HOLIDAY, start_date__range=(first, last)
        )
    }
    created = 0
    for day, (name, name_en) in wanted.items():
        if day in kept_open or day in closed:
            continue
        closure_create(
            office=office,
            start_date=day,
            end_date=day,
            reason=name,
            reason_en=name_en,
            source=Closure.Source.HOLIDAY,
        )
        created += 1
    for day, closure in closed.items():
        if day not in wanted:
            closure_remove(closure=closure)
    return created


@transaction.atomic
def holiday_keep_open(*, office: Office, day: date, name: str = "") -> HolidayOverride:
    """Keep an office open on a public holiday: its holiday closure goes (its slots reopen)
    and the sync will not close the day again. Idempotent."""
    closure = Closure.objects.filter(
        office=office, source=Closure.Source.HOLIDAY, start_date=day
    ).first()
    if closure is not None:
        closure_delete(closure=closure)  # remembers the override
    override, _created = HolidayOverride.objects.get_or_create(
        office=office, date=day, defaults={"name": name}
    )
    return override


@transaction.atomic
def holiday_override_delete(*, override: HolidayOverride) -> int:
    """Give a kept-open holiday back to the calendar: closed again at once if the package
    lists it within the horizon. Returns the closures created (0 or 1)."""
    office = override.office
    override.delete()
    return holidays_sync(offices=[office])
