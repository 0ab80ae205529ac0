"""Who may reach what through the staff API: a generated matrix of personas × endpoints ×
objects of Paris and of Dakar (the world of tests/world.py). Another office's object answers
404 (never 403), no answer ever carries another office's data, a refused request changes
nothing and an allowed one makes its change. Plus: the lists cost a fixed number of queries.
"""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment
from appointments.tests.factories import SlotFactory, book
from production.models import FileStatus, PassportFile
from production.tests.factories import PassportFileFactory
from tests.support import token_client
from tests.world import BACKLOG, COUNTER, FILES, MAY_HOLD, OFFICES, PERSONAS

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(world):
    return {persona: token_client(user) for persona, user in world.users.items()}


# Each case: (name, call(client, target of the office) -> response, expected status for a
# persona who may reach the object, else 404).


def _agenda(client, target):
    office, appointment = target.office, target.appointment
    day = appointment.slot.starts_at.astimezone(office.timezone).date()
    return client.get("/api/v1/agenda/", {"date": day.isoformat(), "office": office.code})


def _check_in(client, target):
    return client.post(f"/api/v1/appointments/{target.appointment.reference}/check-in/")


def _enrol(client, target):
    return client.post(f"/api/v1/appointments/{target.appointment.reference}/enrol/")


def _file(client, target):
    return client.get(f"/api/v1/files/{target.file.reference}/")


def _transition(to, expected):
    def call(client, target):
        return client.post(
            f"/api/v1/files/{target.file.reference}/transition/",
            {"to": to, "expected": expected},
            format="json",
        )

    return call


COUNTER_CASES = {"agenda": (_agenda, 200), "check_in": (_check_in, 200), "enrol": (_enrol, 201)}
FILE_CASES = {
    "file": (_file, 200),
    "queue": (_transition("queued", "enrolled"), 200),
    "stale": (_transition("queued", "queued"), 409),
    "illegal": (_transition("delivered", "enrolled"), 409),
}


# What an allowed request leaves behind: (appointment's status, file's status); every other
# request leaves the appointment booked and the file enrolled.
CHANGES = {
    ("check_in", 200): ("checked_in", "enrolled"),
    ("enrol", 201): ("enrolled", "enrolled"),
    ("queue", 200): ("booked", "queued"),
    ("hold", 200): ("booked", "on_hold"),
}


@pytest.mark.parametrize("office", OFFICES)
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", [*COUNTER_CASES, *FILE_CASES, "hold"])
def test_the_access_matrix(world, clients, persona, office, case):
    target = world.targets[office]
    if case in COUNTER_CASES:
        call, allowed = COUNTER_CASES[case]
        expected = allowed if persona in COUNTER[office] else 404
    elif case in FILE_CASES:
        call, allowed = FILE_CASES[case]
        expected = allowed if persona in FILES[office] else 404
    else:  # a move only some roles of those who see the file may make
        call = _transition("on_hold", "enrolled")
        expected = 404 if persona not in FILES[office] else 200 if persona in MAY_HOLD else 403
    response = call(clients[persona], target)
    assert response.status_code == expected, response.json()
    body = response.content.decode()
    for secret in world.hidden_from(persona):
        assert secret not in body
    if expected == 404:
        assert response.json()["code"] == "not_found"
    if case == "agenda" and expected == 200:
        assert [a["reference"] for a in response.json()] == [target.appointment.reference]
    # Nothing changed that the persona may not change; what they may, changed.
    appointment = Appointment.objects.get(pk=target.appointment.pk)
    file = PassportFile.objects.get(pk=target.file.pk)
    assert (appointment.status, file.status) == CHANGES.get(
        (case, expected), (Appointment.Status.BOOKED, FileStatus.ENROLLED)
    )
    enrolled = PassportFile.objects.filter(appointment=appointment).exists()
    assert enrolled == ((case, expected) == ("enrol", 201))


@pytest.mark.parametrize("office", OFFICES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_file_list_shows_only_the_files_one_may_see(world, clients, persona, office):
    target = world.targets[office]
    response = clients[persona].get("/api/v1/files/", {"office": target.office.code})
    assert response.status_code == 200
    references = [item["reference"] for item in response.json()["results"]]
    assert references == ([target.file.reference] if persona in FILES[office] else [])
    unfiltered = clients[persona].get("/api/v1/files/")
    for body in (response.content.decode(), unfiltered.content.decode()):
        for secret in world.hidden_from(persona):
            assert secret not in body


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_bulk_transition_finds_only_the_files_one_may_see(world, clients, persona):
    files = {name: world.targets[name].file for name in OFFICES}
    response = clients[persona].post(
        "/api/v1/files/bulk-transition/",
        {"files": [file.reference for file in files.values()], "to": "queued"},
        format="json",
    )
    assert response.status_code == 200
    results = {r["file"]: r for r in response.json()["results"]}
    for name, file in files.items():
        result = results[file.reference]
        if persona in FILES[name]:
            assert result == {"file": result["file"], "ok": True, "status": "queued"}
            assert PassportFile.objects.get(pk=file.pk).status == "queued"
        else:
            assert (result["ok"], result["code"]) == (False, "not_found")
            assert PassportFile.objects.get(reference=result["file"]).status == "enrolled"
    body = response.content.decode()
    for name, file in files.items():
        if persona not in FILES[name]:
            assert file.surname not in body
            assert file.national_id not in body


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_backlog_gives_only_the_figures_of_the_offices_one_supervises(world, clients, persona):
    seen = {name for name, personas in BACKLOG.items() if persona in personas}
    response = clients[persona].get("/api/v1/backlog/")
    if not seen:
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        return
    assert response.status_code == 200
    offices = {office["code"]: office for office in response.json()["offices"]}
    assert set(offices) == {world.offices[name].code for name in seen}
    body = response.content.decode()
    for name, office in world.offices.items():
        if name not in seen:
            assert office.code not in body
    for secret in world.hidden_from(persona):
        assert secret not in body
    # Each office counts its own file only: Paris's, not Dakar's; each centre, its mission's.
    for office in offices.values():
        assert office["by_status"]["enrolled"] == office["backlog"] == 1


# Query counts -------------------------------------------------------------------------------


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_agenda_costs_the_same_queries_for_5_or_60_appointments(world, clients):
    paris = world.offices["paris"]
    client = clients["agent_paris"]
    days = []
    for count in (5, 60):
        day = timezone.localdate() + timedelta(days=10 + len(days))
        morning = datetime.combine(day, datetime.min.time(), paris.timezone).replace(hour=7)
        for n in range(count):
            start = morning + timedelta(minutes=10 * n)
            end = start + timedelta(minutes=10)
            book(slot=SlotFactory(office=paris, starts_at=start, ends_at=end))
        days.append(day)

    def agenda(day):
        query = {"date": day.isoformat(), "office": "paris-consulat"}
        return lambda: client.get("/api/v1/agenda/", query)

    few, many = (_queries(agenda(day)) for day in days)
    assert len(agenda(days[1])().json()) == 60
    assert few == many


def test_the_file_list_costs_the_same_queries_for_5_or_60_files(world, clients):
    paris, bamako = world.offices["paris"], world.missions["paris"].centre
    client = clients["operator_bamako"]
    PassportFileFactory.create_batch(4, office=paris, centre=bamako, status=FileStatus.QUEUED)
    few = _queries(lambda: client.get("/api/v1/files/", {"status": "queued"}))
    PassportFileFactory.create_batch(56, office=paris, centre=bamako, status=FileStatus.QUEUED)
    PassportFileFactory.create_batch(55, centre=bamako, status=FileStatus.QUEUED)  # at Bamako
    many = _queries(lambda: client.get("/api/v1/files/", {"status": "queued"}))
    assert len(client.get("/api/v1/files/", {"status": "queued"}).json()["results"]) == 50
    assert few == many
