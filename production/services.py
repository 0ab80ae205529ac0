"""Every write about centres and passport files."""

import secrets
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments import services as appointment_services
from appointments import transitions as appointment_transitions
from appointments.errors import NotChangeable
from appointments.models import Appointment
from appointments.validation import REFERENCE_ALPHABET
from core.errors import DomainError, Forbidden, NotFound
from core.models import Office

from . import notifications, selectors, transitions
from .errors import IllegalTransition, PouchOnly, ReasonRequired, StatusChanged
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
    *,
    file: PassportFile | int,
    to: str,
    expected: str | None,
    by: User,
    note: str = "",
    via_pouch: bool = False,
) -> PassportFile:
    """Move a file to its next status, as `by`, if it is still at `expected` (the status
    the caller saw: two agents never silently overwrite each other). Locks the row, checks
    the move against the one table (production.transitions) and the caller's role for this
    file, and writes the append-only event, all in one transaction.

    Raises NotFound (not a file of the caller's), StatusChanged, IllegalTransition,
    Forbidden (the role may not make this move), PouchOnly (a move only the pouch services
    make, `via_pouch`) or ReasonRequired (a rejection without a reason). The applicant is
    told of the steps production.notifications names."""
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
    allowed = transitions.roles_for_move(
        start=locked.status, to=to, enrolled_at_mission=locked.office.kind == Office.Kind.MISSION
    )
    if allowed is None:
        raise IllegalTransition(current=locked.status)
    if not roles & allowed:
        raise Forbidden()
    if transitions.pouch_only(start=locked.status, to=to) and not via_pouch:
        raise PouchOnly(current=locked.status)
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
    event = FileEvent.objects.create(
        file=locked, from_status=previous, to_status=to, by=by, note=note
    )
    notifications.file_notify(file=locked, event=event)
    return locked


MAX_BULK_FILES = 500


class TooManyFiles(DomainError):
    code = "too_many_files"
    status = 400

    def __init__(self) -> None:
        super().__init__(_("Choisissez au plus %(n)d dossiers à la fois.") % {"n": MAX_BULK_FILES})


def files_bulk_transition(
    *, by: User, references: list[str], to: str, note: str = ""
) -> list[dict]:
    """Move many files to one status (a pouch arrived, a batch passed quality control...),
    each in its own transaction: one file refused does not hold back the others. Each moves
    only if it is still at the status it had when the request began (else
    `status_changed`); one that is unknown or not the caller's is `not_found`. Returns a
    result per reference, once each, in the order given: `{"file", "ok", "status"}` or
    `{"file", "ok", "code", "detail"}`. Raises TooManyFiles past MAX_BULK_FILES."""
    references = list(dict.fromkeys(references))  # once each, in the order sent
    if len(references) > MAX_BULK_FILES:
        raise TooManyFiles()
    # The status of each file as this request sees it now, in one query: a change made by
    # someone else between now and the file's turn surfaces as status_changed.
    seen = {
        reference: (pk, status)
        for reference, pk, status in selectors.files_visible_to(user=by)
        .filter(reference__in=references)
        .values_list("reference", "pk", "status")
    }
    results = []
    for reference in references:
        try:
            if reference not in seen:
                raise NotFound(_("Dossier introuvable."))
            file_id, status = seen[reference]
            # file_transition is its own transaction: a refusal rolls back this file only.
            file = file_transition(file=file_id, to=to, expected=status, by=by, note=note)
        except DomainError as error:
            results.append(
                {"file": reference, "ok": False, "code": error.code, "detail": error.detail}
            )
        else:
            results.append({"file": reference, "ok": True, "status": file.status})
    return results


def file_reference() -> str:
    """A file number that cannot be guessed: D + 10 characters without look-alikes."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    return f"D{chars[:5]}-{chars[5:]}"


def producing_centre(*, office: Office) -> Centre:
    """The centre that produces the passports of an office: itself for a centre; for a
    mission, the centre it is attached to (read through the reverse relation, so that this
    app need not import consulates, which depends on it)."""
    if office.kind == Office.Kind.CENTRE:
        return Centre.objects.get(office=office)
    return Centre.objects.get(missions__office=office)


def premium_due_date(*, office: Office, enrolled_on: date) -> date:
    """The Premium promise: working days of production, plus the pouch for a mission."""
    days = settings.PREMIUM_DUE_WORKING_DAYS
    if office.kind == Office.Kind.MISSION:
        days += settings.PREMIUM_POUCH_WORKING_DAYS
    due = enrolled_on
    while days:
        due += timedelta(days=1)
        if due.weekday() < 5:
            days -= 1
    return due


@transaction.atomic
def file_enrol(*, appointment: Appointment | int, by: User) -> tuple[PassportFile, bool]:
    """Enrol the applicant of an appointment: this creates the passport file, produced by
    the office's centre, with its Premium due date and its first event. Idempotent: a
    second call (a double click) returns the same file, with `created` False."""
    locked = appointment_services.appointment_lock_for_counter(appointment=appointment, by=by)
    if locked.status == Appointment.Status.ENROLLED:
        return PassportFile.objects.get(appointment=locked), False
    allowed = appointment_services.counter_actions(appointment=locked, now=timezone.now())
    if appointment_services.CounterAction.ENROL not in allowed:
        raise NotChangeable()
    office = locked.office
    today = timezone.now().astimezone(office.timezone).date()
    file = PassportFile.objects.create(
        reference=file_reference(),
        appointment=locked,
        office=office,
        centre=producing_centre(office=office),
        status=FileStatus.ENROLLED,
        surname=locked.surname,
        given_names=locked.given_names,
        national_id=locked.national_id,
        birth_date=locked.birth_date,
        due_date=premium_due_date(office=office, enrolled_on=today),
    )
    FileEvent.objects.create(file=file, from_status="", to_status=FileStatus.ENROLLED, by=by)
    locked.status = Appointment.Status.ENROLLED
    enrol = appointment_transitions.ENROL
    with appointment_transitions.recorded(action=enrol, by=by, note=file.reference):
        locked.save(update_fields=["status", "updated_at"])
    return file, True
