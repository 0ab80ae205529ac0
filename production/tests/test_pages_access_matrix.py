"""Who may reach what through the staff workspace pages: a generated matrix of personas ×
pages × objects of Paris and of Dakar. Another office's object answers 404 (or is simply
absent from a list), and no page ever shows another office's data.

Bamako produces the passports of Paris; Kayes those of Dakar.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from appointments import services as appointment_services
from appointments.models import Appointment, Membership
from appointments.tests.factories import SlotFactory, applicant
from consulates.tests.factories import MissionFactory
from production.models import FileStatus, PassportFile
from production.tests.factories import CentreFactory, PassportFileFactory

pytestmark = pytest.mark.django_db

OFFICES = ["paris", "dakar"]
PERSONAS = {
    "agent_paris": ("agent", "paris"),
    "supervisor_paris": ("supervisor", "paris"),
    "agent_dakar": ("agent", "dakar"),
    "operator_bamako": ("operator", "bamako"),
    "operator_kayes": ("operator", "kayes"),
    "admin": ("admin", None),
}
COUNTER = {
    "paris": {"agent_paris", "supervisor_paris", "admin"},
    "dakar": {"agent_dakar", "admin"},
}
FILES = {
    "paris": {"agent_paris", "supervisor_paris", "operator_bamako", "admin"},
    "dakar": {"agent_dakar", "operator_kayes", "admin"},
}
MAY_HOLD = {"supervisor_paris", "admin"}
MAY_EXPORT = {"supervisor_paris", "admin"}


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
        objects[name] = {"office": office, "appointment": appointment, "file": file, "day": start}
    clients = {}
    for persona, (role, office) in PERSONAS.items():
        user = User.objects.create_user(persona)
        Membership.objects.create(user=user, role=role, office=offices.get(office))
        client = Client()
        client.force_login(user)
        clients[persona] = client
    return {"objects": objects, "clients": clients}


def others_data(target: str) -> list[str]:
    """What must never appear in a page about `target`: the other office's names."""
    other = "dakar" if target == "paris" else "paris"
    return [f"RDV{other.upper()}", f"DOSSIER{other.upper()}"]


CASES = [(persona, target) for persona in PERSONAS for target in OFFICES]


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_agenda(world, persona, target):
    objects = world["objects"][target]
    office, day = objects["office"], objects["day"].astimezone(objects["office"].timezone)
    response = world["clients"][persona].get(
        f"/staff/agenda/{office.code}/?date={day.date().isoformat()}"
    )
    if persona in COUNTER[target]:
        assert response.status_code == 200
        assert objects["appointment"].reference in response.content.decode()
        for leaked in others_data(target):
            assert leaked not in response.content.decode()
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_check_in_desk(world, persona, target):
    appointment = world["objects"][target]["appointment"]
    response = world["clients"][persona].get(
        "/staff/accueil/", {"q": appointment.reference}, follow=True
    )
    assert (appointment.surname in response.content.decode()) == (persona in COUNTER[target])


@pytest.mark.parametrize("action", ["check-in", "enrol"])
@pytest.mark.parametrize(("persona", "target"), CASES)
def test_counter_actions(world, persona, target, action):
    appointment = world["objects"][target]["appointment"]
    response = world["clients"][persona].post(
        f"/staff/rendez-vous/{appointment.reference}/{action}/"
    )
    appointment.refresh_from_db()
    if persona in COUNTER[target]:
        assert response.status_code == 302
        expected = "checked_in" if action == "check-in" else "enrolled"
        assert appointment.status == expected
    else:
        assert response.status_code == 404
        assert appointment.status == Appointment.Status.BOOKED
        assert not PassportFile.objects.filter(appointment=appointment).exists()


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_file_list(world, persona, target):
    html = world["clients"][persona].get("/staff/dossiers/").content.decode()
    assert (f"DOSSIER{target.upper()}" in html) == (persona in FILES[target])


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_file_page(world, persona, target):
    file = world["objects"][target]["file"]
    response = world["clients"][persona].get(f"/staff/dossiers/{file.reference}/")
    if persona in FILES[target]:
        assert response.status_code == 200
        for leaked in others_data(target):
            assert leaked not in response.content.decode()
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_file_move(world, persona, target):
    file = world["objects"][target]["file"]
    response = world["clients"][persona].post(
        f"/staff/dossiers/{file.reference}/", {"to": "on_hold", "expected": "enrolled"}
    )
    file.refresh_from_db()
    if persona not in FILES[target]:
        assert response.status_code == 404
        assert file.status == FileStatus.ENROLLED
    else:
        assert response.status_code == 302
        moved = persona in MAY_HOLD
        assert file.status == (FileStatus.ON_HOLD if moved else FileStatus.ENROLLED)


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_bulk_move(world, persona, target):
    file = world["objects"][target]["file"]
    world["clients"][persona].post(
        "/staff/dossiers/", {"files": [file.reference], "to": "on_hold"}
    )
    file.refresh_from_db()
    moved = persona in FILES[target] and persona in MAY_HOLD
    assert file.status == (FileStatus.ON_HOLD if moved else FileStatus.ENROLLED)


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_csv_export(world, persona, target):
    response = world["clients"][persona].get("/staff/dossiers/export.csv")
    if persona not in MAY_EXPORT:
        assert response.status_code == 403
        return
    body = response.content.decode("utf-8-sig")
    assert (f"DOSSIER{target.upper()}" in body) == (persona in FILES[target])
