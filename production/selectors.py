"""Reads of passport files, always scoped to what a member of staff may see (the staff scope
of appointments/access.py)."""

from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet

from appointments.access import StaffScope, staff_scope
from appointments.models import Appointment, Office

from .models import FileEvent, PassportFile


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
    The caller has checked that the member of staff works at this office."""
    tz = office.timezone
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return (
        Appointment.objects.filter(
            office=office, slot__starts_at__gte=start, slot__starts_at__lt=end
        )
        .select_related("slot", "passport_file")
        .order_by("slot__starts_at", "surname", "pk")
    )
