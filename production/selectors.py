"""Reads of passport files, always scoped to what a member of staff may see."""

from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from appointments.models import Appointment, Membership, Office

from .models import PassportFile


def staff_memberships(*, user: User) -> list[Membership]:
    return list(Membership.objects.filter(user=user))


def files_visible_to(*, user: User) -> QuerySet[PassportFile]:
    """The files a member of staff may see: those enrolled at their offices (agents and
    supervisors), those produced at their centres (operators), every file (administrators).
    Every staff page and endpoint starts from here; another office's file is not found."""
    roles = staff_memberships(user=user)
    if any(m.role == Membership.Role.ADMIN for m in roles):
        return PassportFile.objects.all()
    counter = [m.office_id for m in roles if m.role != Membership.Role.OPERATOR]
    centre = [m.office_id for m in roles if m.role == Membership.Role.OPERATOR]
    if not counter and not centre:
        return PassportFile.objects.none()
    return PassportFile.objects.filter(Q(office_id__in=counter) | Q(centre__office_id__in=centre))


def roles_for_file(*, user: User, file: PassportFile) -> set[str]:
    """The roles a member of staff holds for this file (empty: the file is not theirs)."""
    roles = set()
    for membership in staff_memberships(user=user):
        if membership.role == Membership.Role.ADMIN:
            roles.add(membership.role)
        elif membership.role == Membership.Role.OPERATOR:
            if membership.office_id == file.centre.office_id:
                roles.add(membership.role)
        elif membership.office_id == file.office_id:
            roles.add(membership.role)
    return roles


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
