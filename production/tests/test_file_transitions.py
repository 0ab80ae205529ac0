"""Every move of the transition table, for every role, and every move outside it."""

import itertools

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from appointments.tests.factories import OfficeFactory, member
from core.errors import Forbidden, NotFound
from core.models import Membership
from production import services, transitions
from production.errors import IllegalTransition, PouchOnly, ReasonRequired, StatusChanged
from production.models import FileEvent, FileStatus, PassportFile
from production.tests.factories import CentreFactory, PassportFileFactory
from tests.support import run_together

pytestmark = pytest.mark.django_db

ROLES = list(Membership.Role.values)
STATUSES = list(FileStatus.values)


def staff_for(role: str, file: PassportFile) -> User:
    """A member of staff holding `role` for this file, at the office where it matters."""
    if role == Membership.Role.ADMIN:
        return member(role)
    if role == Membership.Role.OPERATOR:
        return member(role, file.centre.office)
    return member(role, file.office)


CASES = [
    (start, to, role, mission)
    for start, to in itertools.product(STATUSES, STATUSES)
    if start != to
    for role in ROLES
    for mission in (False, True)
]


@pytest.mark.parametrize(("start", "to", "role", "at_mission"), CASES)
def test_the_transition_table(bamako, paris, start, to, role, at_mission):
    office = paris.office if at_mission else bamako.office
    file = PassportFileFactory(centre=bamako, office=office, status=start)
    user = staff_for(role, file)
    allowed = transitions.TRANSITIONS.get((start, to))
    legal = allowed is not None and transitions.route_allows(
        start=start, to=to, enrolled_at_mission=at_mission
    )
    note = "Photo non conforme" if to == FileStatus.REJECTED else ""

    pouch = transitions.pouch_only(start=start, to=to)
    if not legal:
        with pytest.raises(IllegalTransition):
            services.file_transition(file=file, to=to, expected=start, by=user, note=note)
    elif role not in allowed:
        with pytest.raises(Forbidden):
            services.file_transition(file=file, to=to, expected=start, by=user, note=note)
    else:
        if pouch:  # only the pouch services make it, for the roles of the table
            with pytest.raises(PouchOnly):
                services.file_transition(file=file, to=to, expected=start, by=user, note=note)
        moved = services.file_transition(
            file=file, to=to, expected=start, by=user, note=note, via_pouch=pouch
        )
        assert moved.status == to
        event = FileEvent.objects.get(file=file)
        assert (event.from_status, event.to_status, event.by, event.note) == (
            start,
            to,
            user,
            note,
        )
        return
    file.refresh_from_db()
    assert file.status == start
    assert not FileEvent.objects.filter(file=file).exists()


def test_a_mission_file_is_ready_only_through_the_pouch(bamako, paris):
    file = PassportFileFactory(centre=bamako, office=paris.office, status=FileStatus.QUALITY_CHECK)
    admin = member("admin")
    with pytest.raises(IllegalTransition):
        services.file_transition(file=file, to="ready", expected="quality_check", by=admin)
    # Neither the file page, nor a bulk move, nor the API sends it or receives it: the pouch.
    assert transitions.allowed_moves(file=file, roles=frozenset({"admin"})) == [
        "in_production",
        "rejected",
    ]
    with pytest.raises(PouchOnly):
        services.file_transition(file=file, to="in_transit", expected="quality_check", by=admin)
    services.file_transition(
        file=file, to="in_transit", expected="quality_check", by=admin, via_pouch=True
    )
    file.refresh_from_db()
    assert file.status == FileStatus.IN_TRANSIT
    assert transitions.allowed_moves(file=file, roles=frozenset({"admin"})) == []
    with pytest.raises(PouchOnly):
        services.file_transition(file=file, to="ready", expected="in_transit", by=admin)


def test_a_status_other_than_the_one_seen_is_refused(bamako):
    file = PassportFileFactory(centre=bamako, status=FileStatus.QUEUED)
    operator = staff_for("operator", file)
    with pytest.raises(StatusChanged) as excinfo:
        services.file_transition(file=file, to="queued", expected="enrolled", by=operator)
    assert excinfo.value.extra == {"current": "queued"}


def test_a_rejection_needs_a_reason(bamako):
    file = PassportFileFactory(centre=bamako)
    supervisor = staff_for("supervisor", file)
    with pytest.raises(ReasonRequired):
        services.file_transition(file=file, to="rejected", expected="enrolled", by=supervisor)
    services.file_transition(
        file=file, to="rejected", expected="enrolled", by=supervisor, note="Acte illisible"
    )
    file.refresh_from_db()
    assert file.rejection_reason == "Acte illisible"


def test_another_offices_file_is_not_found(bamako, paris):
    file = PassportFileFactory(centre=bamako, office=paris.office)
    dakar_agent = member("agent", OfficeFactory(code="dakar-consulat"))
    other_operator = member("operator", CentreFactory(office__code="kayes-centre").office)
    for outsider in (dakar_agent, other_operator):
        with pytest.raises(NotFound):
            services.file_transition(file=file, to="queued", expected="enrolled", by=outsider)
    file.refresh_from_db()
    assert file.status == FileStatus.ENROLLED


def test_file_events_cannot_be_changed_or_deleted(bamako):
    file = PassportFileFactory(centre=bamako)
    services.file_transition(
        file=file, to="queued", expected="enrolled", by=staff_for("agent", file)
    )
    event = FileEvent.objects.get()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        FileEvent.objects.filter(pk=event.pk).update(note="changed")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.delete()
    assert FileEvent.objects.get().note == ""


@pytest.mark.django_db(transaction=True)
def test_two_agents_moving_one_file_at_once(bamako):
    file = PassportFileFactory(centre=bamako)
    first, second = staff_for("agent", file), staff_for("supervisor", file)
    results = run_together(
        [
            lambda: services.file_transition(
                file=file.pk, to="queued", expected="enrolled", by=first
            ),
            lambda: services.file_transition(
                file=file.pk, to="rejected", expected="enrolled", by=second, note="Doublon"
            ),
        ]
    )
    outcomes = sorted(type(r).__name__ for r in results)
    assert outcomes == ["PassportFile", "StatusChanged"]
    file.refresh_from_db()
    assert FileEvent.objects.filter(file=file).count() == 1
    assert FileEvent.objects.get(file=file).to_status == file.status
