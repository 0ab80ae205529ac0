"""Reads of passport files, always scoped to what a member of staff may see (the staff scope
of core/access.py); and, for the public status page, aggregate figures only."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Value
from django.utils import timezone

from appointments.models import Appointment, Suspension
from appointments.selectors import OfficeNow, offices_now
from core.access import StaffScope, staff_scope
from core.models import Office

from .models import WAITING, FileEvent, FileStatus, PassportFile


def files_in_scope(scope: StaffScope) -> QuerySet[PassportFile]:
    """The files of a scope: those enrolled at the offices whose counter it works at, those
    produced at the centres it operates, every file for an administrator."""
    if scope.is_admin:
        return PassportFile.objects.all()
    if not scope.counter_office_ids and not scope.centre_office_ids:
        return PassportFile.objects.none()
    return PassportFile.objects.filter(
        scope.counter_filter("office_id") | scope.centre_filter("centre__office_id")
    )


def files_visible_to(*, user: User) -> QuerySet[PassportFile]:
    """The files a member of staff may see. Every staff page and endpoint starts from here;
    another office's file is not found."""
    return files_in_scope(staff_scope(user))


def roles_for_file(*, user: User, file: PassportFile) -> frozenset[str]:
    """The roles a member of staff holds for this file (empty: the file is not theirs)."""
    return staff_scope(user).roles_for(
        counter_office_id=file.office_id, centre_office_id=file.centre.office_id
    )


def files_search(
    *,
    user: User,
    status: str | None = None,
    office: str | None = None,
    opened_on: date | None = None,
    text: str | None = None,
) -> QuerySet[PassportFile]:
    """The files a member of staff may see, filtered (status, code of the enrolling office,
    day the file was opened, part of its number or of the applicant's names), newest first;
    for the file list page, its CSV export and the API alike."""
    files = files_visible_to(user=user).select_related("office", "centre__office")
    if status:
        files = files.filter(status=status)
    if office:
        files = files.filter(office__code=office)
    if opened_on:
        files = files.filter(created_at__date=opened_on)
    text = (text or "").strip()
    if text:
        files = files.filter(
            Q(reference__icontains=text)
            | Q(surname__icontains=text)
            | Q(given_names__icontains=text)
        )
    return files.order_by("-created_at", "-pk")


def file_with_events(*, user: User, reference: str) -> PassportFile | None:
    """A file the member of staff may see, with its office, centre and events (history in
    order, with who made each move); None when it is not theirs or does not exist."""
    events = FileEvent.objects.select_related("by").order_by("at", "pk")
    return (
        files_visible_to(user=user)
        .select_related("office", "centre__office")
        .prefetch_related(Prefetch("events", queryset=events))
        .filter(reference=reference)
        .first()
    )


def agenda(*, office: Office, day: date) -> QuerySet[Appointment]:
    """The appointments of an office on one of its local days, in time order (one query).
    The caller has checked that the member of staff works at this office. Holds whose code
    was never entered (contact verification: pending, expired) are no appointments."""
    tz = office.timezone
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return (
        Appointment.objects.filter(
            office=office, slot__starts_at__gte=start, slot__starts_at__lt=end
        )
        .exclude(status__in=[Appointment.Status.PENDING, Appointment.Status.EXPIRED])
        .select_related("slot", "passport_file")
        .order_by("slot__starts_at", "surname", "pk")
    )


# The public status page: aggregate figures only, never a file's name, number or identity.

# A passport is produced when it passes quality control: ready at the centre where it was
# enrolled, or in transit in a mission's pouch (a failed check, back to production, is not).
PRODUCED = (FileStatus.READY, FileStatus.IN_TRANSIT)

# Passports produced since Monday 00:00 of this week, local to the centre that made them and
# local to the office where they were enrolled, per (centre's office, enrolling office).
# Monday 00:00 anywhere is less than 8 days before now: the last condition bounds the rows.
_PRODUCED_THIS_WEEK_SQL = """
SELECT c.office_id, f.office_id, fo.kind,
  count(DISTINCT f.id) FILTER (
    WHERE e.at >= date_trunc('week', %(now)s AT TIME ZONE co.timezone) AT TIME ZONE co.timezone
  ),
  count(DISTINCT f.id) FILTER (
    WHERE e.at >= date_trunc('week', %(now)s AT TIME ZONE fo.timezone) AT TIME ZONE fo.timezone
  )
FROM production_fileevent e
JOIN production_passportfile f ON f.id = e.file_id
JOIN production_centre c ON c.id = f.centre_id
JOIN appointments_office co ON co.id = c.office_id
JOIN appointments_office fo ON fo.id = f.office_id
WHERE e.from_status = %(checked)s AND e.to_status = ANY(%(produced)s)
  AND e.at <= %(now)s AND e.at > %(now)s - interval '8 days'
GROUP BY 1, 2, 3
"""


def credited_offices(*, centre_office_id: int, office_id: int, kind: str) -> tuple[int, ...]:
    """The offices whose aggregate figures count a file produced at the centre of
    `centre_office_id` and enrolled at `office_id` (an office of `kind`): its centre, and
    the mission where it was enrolled if it was at one. For the public status page and the
    backlog dashboard alike."""
    if kind == Office.Kind.MISSION:
        return (centre_office_id, office_id)
    return (centre_office_id,)


@dataclass(frozen=True)
class Figures:
    """What an office's applicants may know of the work in progress, in numbers only."""

    waiting: int = 0  # files waiting (WAITING)
    average_wait_days: float | None = None  # since each file was opened; None: none waits
    produced_this_week: int = 0  # passports that passed quality control (PRODUCED)


@dataclass
class _Tally:
    waiting: int = 0
    waited: timedelta = timedelta()
    produced: int = 0

    def figures(self) -> Figures:
        average = self.waited.total_seconds() / 86400 / self.waiting if self.waiting else None
        return Figures(self.waiting, average, self.produced)


def production_figures(*, now: datetime) -> dict[int, Figures]:
    """Figures by office id, in two aggregate queries whatever the number of offices and
    files: for a production centre, the files it produces (for its own applicants and for
    its missions); for a mission, the files enrolled there. The week starts on Monday
    00:00 in the office's own timezone."""
    tallies: dict[int, _Tally] = defaultdict(_Tally)  # an office is a centre or a mission
    # Both queries group by (centre's office, enrolling office): few rows, a file in one.
    waiting = (
        PassportFile.objects.filter(status__in=WAITING)
        .values_list("centre__office_id", "office_id", "office__kind")
        .annotate(n=Count("pk"), waited=Sum(Value(now) - F("created_at")))
        .order_by()
    )
    for centre_office_id, office_id, kind, n, waited in waiting:
        for credited in credited_offices(
            centre_office_id=centre_office_id, office_id=office_id, kind=kind
        ):
            tallies[credited].waiting += n
            tallies[credited].waited += waited
    with connection.cursor() as cursor:
        cursor.execute(
            _PRODUCED_THIS_WEEK_SQL,
            {"now": now, "checked": FileStatus.QUALITY_CHECK, "produced": list(PRODUCED)},
        )
        for centre_office_id, office_id, kind, centre_week, office_week in cursor.fetchall():
            tallies[centre_office_id].produced += centre_week
            if kind == Office.Kind.MISSION:
                tallies[office_id].produced += office_week
    return {office_id: tally.figures() for office_id, tally in tallies.items()}


@dataclass(frozen=True)
class OfficeStatus:
    """An office on the public status page: open or suspended, and its figures."""

    place: OfficeNow  # the office with has_free_slot, its local time, its suspension now
    figures: Figures

    @property
    def office(self) -> Office:
        return self.place.office

    @property
    def suspension(self) -> Suspension | None:
        """The one in force now, shown with its message (appointments.selectors)."""
        return self.place.suspension


def public_status(*, now: datetime | None = None) -> dict[str, list[OfficeStatus]]:
    """Every active office, grouped by kind as on the home page, with whether the Premium
    service is suspended there now and its production figures: four queries at most,
    whatever the number of offices, suspensions and files."""
    now = now or timezone.now()
    figures = production_figures(now=now)
    return {
        kind: [
            OfficeStatus(place=place, figures=figures.get(place.office.pk, Figures()))
            for place in places
        ]
        for kind, places in offices_now(now=now).items()
    }
