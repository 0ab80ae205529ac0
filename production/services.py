"""Every write about centres and passport files."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from appointments.models import Office
from epassport.errors import Forbidden, NotFound

from . import selectors, transitions
from .errors import IllegalTransition, ReasonRequired, StatusChanged
from .models import Centre, FileEvent, FileStatus, PassportFile


@transaction.atomic
def centre_upsert(*, office: Office, daily_capacity: int) -> Centre:
    """Make `office` a production centre with this capacity (idempotent)."""
    centre = Centre.objects.select_for_update().filter(office=office).first()
    if centre is None:
        centre = Centre(office=office, daily_capacity=daily_capacity)
        centre.full_clean()
        centre.save()
    elif centre.daily_capacity != daily_capacity:
        centre.daily_capacity = daily_capacity
        centre.full_clean()
        centre.save(update_fields=["daily_capacity"])
    return centre


# Passport files ---------------------------------------------------------------------------


@transaction.atomic
def file_transition(
    *, file: PassportFile | int, to: str, expected: str | None, by: User, note: str = ""
) -> PassportFile:
    """Move a file to its next status, as `by`, if it is still at `expected` (the status
    the caller saw: two agents never silently overwrite each other). Locks the row, checks
    the move against the one table (production.transitions) and the caller's role for this
    file, and writes the append-only event, all in one transaction.

    Raises NotFound (not a file of the caller's), StatusChanged, IllegalTransition,
    Forbidden (the role may not make this move) or ReasonRequired (a rejection without a
    reason)."""
    file_id = file if isinstance(file, int) else file.pk
    locked = (
        PassportFile.objects.select_for_update(of=("self",))
        .select_related("office", "centre")
        .filter(pk=file_id)
        .first()
    )
    roles = selectors.roles_for_file(user=by, file=locked) if locked else set()
    if not roles:
        raise NotFound(_("Dossier introuvable."))
    if expected is not None and locked.status != expected:
        raise StatusChanged(current=locked.status)
    allowed = transitions.TRANSITIONS.get((locked.status, to))
    if allowed is None or not transitions.route_allows(
        start=locked.status, to=to, enrolled_at_mission=locked.office.kind == Office.Kind.MISSION
    ):
        raise IllegalTransition(current=locked.status)
    if not roles & allowed:
        raise Forbidden()
    note = (note or "").strip()
    if to == FileStatus.REJECTED and not note:
        raise ReasonRequired()
    previous = locked.status
    locked.status = to
    fields = ["status", "updated_at"]
    if to == FileStatus.REJECTED:
        locked.rejection_reason = note
        fields.append("rejection_reason")
    locked.save(update_fields=fields)
    FileEvent.objects.create(file=locked, from_status=previous, to_status=to, by=by, note=note)
    return locked
