"""Who may reach what through the staff API: a generated matrix of personas × endpoints ×
objects of Paris and of Dakar. Another office's object answers 404 (never 403), and no
answer ever carries another office's data. Plus: the lists cost a fixed number of queries.

Bamako produces the passports of Paris; Kayes those of Dakar.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appointments import services as appointment_services
from appointments.models import Appointment, Membership
from appointments.tests.factories import SlotFactory, applicant
from consulates.tests.factories import MissionFactory
from production.models import FileStatus, PassportFile
from production.tests.factories import CentreFactory, PassportFileFactory

pytestmark = pytest.mark.django_db

OFFICES = ["paris", "dakar"]
# (persona, role, office of the membership; None for the ministry's administrator).
PERSONAS = {
    "agent_paris": ("agent", "paris"),
    "supervisor_paris": ("supervisor", "paris"),
    "agent_dakar": ("agent", "dakar"),
    "operator_bamako": ("operator", "bamako"),
    "operator_kayes": ("operator", "kayes"),
    "admin": ("admin", None),
}
# Who works at the counter of each office (appointments), and who sees its files.
COUNTER = {
    "paris": {"agent_paris", "supervisor_paris", "admin"},
    "dakar": {"agent_dakar", "admin"},
}
FILES = {
    "paris": {"agent_paris", "supervisor_paris", "operator_bamako", "admin"},
    "dakar": {"agent_dakar", "operator_kayes", "admin"},
}
# Who may put an enrolled file on hold (production.transitions).
MAY_HOLD = {"supervisor_paris", "admin"}


@pytest.fixture
def world():
    bamako = CentreFactory(office__code="bko-centre")
    kayes = CentreFactory(office__code="kayes-centre", office__city="Kayes")
    paris = MissionFactory(office__code="paris-consulat", centre=bamako).office
    dakar = MissionFactory(
        office__code="dakar-consulat",
        office__country="SN",
        office__timezone=ZoneInfo("Africa/Dakar"),
        centre=kayes,
    ).office
    offices = {"paris": paris, "dakar": dakar, "bamako": bamako.office, "kayes": kayes.office}
    centres = {"paris": bamako, "dakar": kayes}
    objects = {}
    for name in OFFICES:
        office = offices[name]
        start = timezone.now() + timedelta(days=2)
        slot = SlotFactory(office=office, starts_at=start, ends_at=start + timedelta(minutes=15))
        appointment, _token = appointment_services.booking_create(
            slot=slot, applicant=applicant(surname=f"RDV{name.upper()}")
        )
        file = PassportFileFactory(
            office=office, centre=centres[name], surname=f"DOSSIER{name.upper()}"
        )
        objects[name] = {"office": office, "appointment": appointment, "file": file}
    clients = {}
    for persona, (role, office) in PERSONAS.items():
        user = User.objects.create_user(persona)
        Membership.objects.create(user=user, role=role, office=offices.get(office))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        clients[persona] = client
    return {"objects": objects, "clients": clients}


def secrets_hidden_from(persona, objects) -> list[str]:
    """What of each office this persona must never read: the appointments of the offices
    they do not work at, the files of the offices they do not see."""
    hidden = []
    for name in OFFICES:
        if persona not in COUNTER[name]:
            appointment = objects[name]["appointment"]
            hidden += [appointment.reference, appointment.surname, appointment.national_id]
        if persona not in FILES[name]:
            file = objects[name]["file"]
            hidden += [file.reference, file.surname, file.national_id]
    return hidden


# Each case: (name, call(client, objects of the office) -> response, expected status for a
# persona who may reach the object, else 404).


def _agenda(client, target):
    office, appointment = target["office"], target["appointment"]
    day = appointment.slot.starts_at.astimezone(office.timezone).date()
    return client.get("/api/v1/agenda/", {"date": day.isoformat(), "office": office.code})


def _check_in(client, target):
    return client.post(f"/api/v1/appointments/{target['appointment'].reference}/check-in/")


def _enrol(client, target):
    return client.post(f"/api/v1/appointments/{target['appointment'].reference}/enrol/")


def _file(client, target):
    return client.get(f"/api/v1/files/{target['file'].reference}/")


def _transition(to, expected):
    def call(client, target):
        return client.post(
            f"/api/v1/files/{target['file'].reference}/transition/",
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


@pytest.mark.parametrize("office", OFFICES)
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", [*COUNTER_CASES, *FILE_CASES, "hold"])
def test_the_access_matrix(world, persona, office, case):
    target = world["objects"][office]
    if case in COUNTER_CASES:
        call, allowed = COUNTER_CASES[case]
        expected = allowed if persona in COUNTER[office] else 404
    elif case in FILE_CASES:
        call, allowed = FILE_CASES[case]
        expected = allowed if persona in FILES[office] else 404
    else:  # a move only some roles of those who see the file may make
        call = _transition("on_hold", "enrolled")
        expected = 404 if persona not in FILES[office] else 200 if persona in MAY_HOLD else 403
    response = call(world["clients"][persona], target)
    assert response.status_code == expected, response.json()
    body = response.content.decode()
    for secret in secrets_hidden_from(persona, world["objects"]):
        assert secret not in body
    if expected == 404:
        assert response.json()["code"] == "not_found"
    if case == "agenda" and expected == 200:
        assert [a["reference"] for a in response.json()] == [target["appointment"].reference]
    # Nothing changed that the persona may not change.
    if expected in (403, 404):
        file = PassportFile.objects.get(pk=target["file"].pk)
        assert file.status == FileStatus.ENROLLED
        appointment = Appointment.objects.get(pk=target["appointment"].pk)
        assert appointment.status == Appointment.Status.BOOKED


@pytest.mark.parametrize("office", OFFICES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_file_list_shows_only_the_files_one_may_see(world, persona, office):
    target = world["objects"][office]
    response = world["clients"][persona].get("/api/v1/files/", {"office": target["office"].code})
    assert response.status_code == 200
    references = [item["reference"] for item in response.json()["results"]]
    assert references == ([target["file"].reference] if persona in FILES[office] else [])
    unfiltered = world["clients"][persona].get("/api/v1/files/")
    for body in (response.content.decode(), unfiltered.content.decode()):
        for secret in secrets_hidden_from(persona, world["objects"]):
            assert secret not in body


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_bulk_transition_finds_only_the_files_one_may_see(world, persona):
    objects = world["objects"]
    references = [objects[name]["file"].reference for name in OFFICES]
    response = world["clients"][persona].post(
        "/api/v1/files/bulk-transition/", {"files": references, "to": "queued"}, format="json"
    )
    assert response.status_code == 200
    results = {r["file"]: r for r in response.json()["results"]}
    for name in OFFICES:
        result = results[objects[name]["file"].reference]
        if persona in FILES[name]:
            assert result == {"file": result["file"], "ok": True, "status": "queued"}
        else:
            assert (result["ok"], result["code"]) == (False, "not_found")
            assert PassportFile.objects.get(reference=result["file"]).status == "enrolled"
    body = response.content.decode()
    for name in OFFICES:
        if persona not in FILES[name]:
            file = objects[name]["file"]
            assert file.surname not in body
            assert file.national_id not in body


# Query counts -------------------------------------------------------------------------------


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_agenda_costs_the_same_queries_for_5_or_60_appointments(world):
    paris = world["objects"]["paris"]["office"]
    client = world["clients"]["agent_paris"]
    days = []
    for count in (5, 60):
        day = timezone.localdate() + timedelta(days=10 + len(days))
        morning = datetime.combine(day, datetime.min.time(), paris.timezone).replace(hour=7)
        for n in range(count):
            start = morning + timedelta(minutes=10 * n)
            slot = SlotFactory(
                office=paris, starts_at=start, ends_at=start + timedelta(minutes=10)
            )
            appointment_services.booking_create(slot=slot, applicant=applicant())
        days.append(day)

    def agenda(day):
        query = {"date": day.isoformat(), "office": "paris-consulat"}
        return lambda: client.get("/api/v1/agenda/", query)

    few, many = (_queries(agenda(day)) for day in days)
    assert len(agenda(days[1])().json()) == 60
    assert few == many


def test_the_file_list_costs_the_same_queries_for_5_or_60_files(world):
    objects = world["objects"]
    paris, bamako = objects["paris"]["office"], objects["paris"]["file"].centre
    client = world["clients"]["operator_bamako"]
    PassportFileFactory.create_batch(4, office=paris, centre=bamako, status=FileStatus.QUEUED)
    few = _queries(lambda: client.get("/api/v1/files/", {"status": "queued"}))
    PassportFileFactory.create_batch(56, office=paris, centre=bamako, status=FileStatus.QUEUED)
    PassportFileFactory.create_batch(55, centre=bamako, status=FileStatus.QUEUED)  # at Bamako
    many = _queries(lambda: client.get("/api/v1/files/", {"status": "queued"}))
    assert len(client.get("/api/v1/files/", {"status": "queued"}).json()["results"]) == 50
    assert few == many
