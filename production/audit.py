"""Who saw which file's identity data, and when (production.models.FileView).

Every staff page, export and API answer that shows a file's names or identity number records
its views here, in one INSERT whatever the number of files shown, so that a page's queries
stay bounded. Administrators read them in the admin (Consultations des dossiers)."""

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from .models import FileView

_INSERT = """
    INSERT INTO production_fileview (file_id, user_id, via, at)
    SELECT unnest(%s::bigint[]), %s, %s, %s
"""


def record_views(*, user, files: Iterable, via: str) -> int:
    """Record that `user` saw these files (instances or ids) through `via`; returns how
    many. Nothing is recorded for an anonymous user (no staff page serves one)."""
    if via not in FileView.Via.values:
        raise ValueError(f"unknown way of seeing a file: {via!r}")
    ids = [getattr(file, "pk", file) for file in files]
    if not ids or not getattr(user, "pk", None):
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [ids, user.pk, via, timezone.now()])
    return len(ids)
