"""Who saw which file's identity data, and when (production.models.FileView).

Every staff page, export and API answer that shows a file's names or identity number records
its views here, in one INSERT whatever the number of files shown, so that a page's queries
stay bounded. Administrators read them in the admin (Consultations des dossiers)."""

from collections.abc import Iterable

from appointments.audit import record_staff_views

from .models import FileView


def record_views(*, user, files: Iterable, via: str) -> int:
    """Record that `user` saw these files (instances or ids) through `via`; returns how
    many. Nothing is recorded for an anonymous user (no staff page serves one)."""
    return record_staff_views(model=FileView, column="file_id", user=user, rows=files, via=via)
