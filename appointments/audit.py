"""Who saw which appointment's identity data, and when (models.AppointmentView): the agenda,
the check-in desk's lookup, the admin's lists, searches and pages, the staff API's agenda.
One INSERT whatever the number of appointments shown, so that a page's queries stay
bounded. Administrators read them in the admin (Consultations des rendez-vous); the views of
passport files are production.audit's, written by the same `record_staff_views`."""

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone
from psycopg2 import sql

from .models import AppointmentView

_INSERT = sql.SQL(
    "INSERT INTO {table} ({column}, user_id, via, at) SELECT unnest(%s::bigint[]), %s, %s, %s"
)


def record_staff_views(*, model, column: str, user, rows: Iterable, via: str) -> int:
    """Record that `user` saw these rows (instances or ids) of `model`'s subject through
    `via`, in `model`'s append-only table (its `column` names the row seen); returns how
    many. Nothing is recorded for an anonymous user (no staff page serves one)."""
    if via not in model.Via.values:
        raise ValueError(f"unknown way of seeing a {model.__name__}: {via!r}")
    ids = [getattr(row, "pk", row) for row in rows]
    if not ids or not getattr(user, "pk", None):
        return 0
    statement = _INSERT.format(
        table=sql.Identifier(model._meta.db_table), column=sql.Identifier(column)
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [ids, user.pk, via, timezone.now()])
    return len(ids)


def record_appointment_views(*, user, appointments: Iterable, via: str) -> int:
    """Record that `user` saw these appointments (instances or ids) through `via`."""
    return record_staff_views(
        model=AppointmentView, column="appointment_id", user=user, rows=appointments, via=via
    )
