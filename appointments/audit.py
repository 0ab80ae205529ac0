"""Who saw which appointment's identity data, and when (models.AppointmentView): the agenda,
the check-in desk's lookup, the admin's lists, searches and pages, the staff API's agenda.
One INSERT whatever the number of appointments shown, so that a page's queries stay
bounded. Administrators read them in the admin (Consultations des rendez-vous); the views of
passport files are production.audit's."""

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from .models import AppointmentView

_INSERT = """
    INSERT INTO appointments_appointmentview (appointment_id, user_id, via, at)
    SELECT unnest(%s::bigint[]), %s, %s, %s
"""


def record_appointment_views(*, user, appointments: Iterable, via: str) -> int:
    """Record that `user` saw these appointments (instances or ids) through `via`; returns
    how many. Nothing is recorded for an anonymous user (no staff page serves one)."""
    if via not in AppointmentView.Via.values:
        raise ValueError(f"unknown way of seeing an appointment: {via!r}")
    ids = [getattr(appointment, "pk", appointment) for appointment in appointments]
    if not ids or not getattr(user, "pk", None):
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [ids, user.pk, via, timezone.now()])
    return len(ids)
