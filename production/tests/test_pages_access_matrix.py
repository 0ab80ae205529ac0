"""Who may reach what through the staff workspace pages: a generated matrix of personas ×
pages × objects of Paris and of Dakar (the world of tests/world.py). Another office's object
answers 404 (or is simply absent from a list), and no page ever shows another office's data.
"""

import pytest
from django.test import Client

from appointments.models import Appointment
from production.models import FileStatus, PassportFile
from tests.support import log_in
from tests.world import BACKLOG, COUNTER, FILES, MAY_HOLD, OFFICES, PERSONAS

pytestmark = pytest.mark.django_db

MAY_EXPORT = {"supervisor_paris", "admin"}


@pytest.fixture
def clients(world):
    clients = {}
    for persona, user in world.users.items():
        clients[persona] = Client()
        log_in(clients[persona], user)
    return clients


def others_data(target: str) -> list[str]:
    """What must never appear in a page about `target`: the other office's names."""
    other = "dakar" if target == "paris" else "paris"
    return [f"RDV{other.upper()}", f"DOSSIER{other.upper()}"]


def assert_page(response, *, may_see: bool, target: str, shows) -> None:
    """A page about an object of `target`: 404 for who may not see it; else the object (by
    its reference) and nothing of the other office."""
    if not may_see:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    html = response.content.decode()
    assert shows.reference in html
    for leaked in others_data(target):
        assert leaked not in html


CASES = [(persona, target) for persona in PERSONAS for target in OFFICES]


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_agenda(world, clients, persona, target):
    office, appointment = world.targets[target].office, world.targets[target].appointment
    day = world.targets[target].starts_at.astimezone(office.timezone)
    response = clients[persona].get(f"/staff/agenda/{office.code}/?date={day.date().isoformat()}")
    assert_page(response, may_see=persona in COUNTER[target], target=target, shows=appointment)


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_check_in_desk(world, clients, persona, target):
    appointment = world.targets[target].appointment
    response = clients[persona].get("/staff/accueil/", {"q": appointment.reference}, follow=True)
    assert (appointment.surname in response.content.decode()) == (persona in COUNTER[target])


@pytest.mark.parametrize("action", ["check-in", "enrol"])
@pytest.mark.parametrize(("persona", "target"), CASES)
def test_counter_actions(world, clients, persona, target, action):
    appointment = world.targets[target].appointment
    response = clients[persona].post(f"/staff/rendez-vous/{appointment.reference}/{action}/")
    appointment.refresh_from_db()
    if persona in COUNTER[target]:
        assert response.status_code == 302
        expected = "checked_in" if action == "check-in" else "enrolled"
        assert appointment.status == expected
        enrolled = PassportFile.objects.filter(appointment=appointment).exists()
        assert enrolled == (action == "enrol")
    else:
        assert response.status_code == 404
        assert appointment.status == Appointment.Status.BOOKED
        assert not PassportFile.objects.filter(appointment=appointment).exists()


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_file_list(clients, persona, target):
    html = clients[persona].get("/staff/dossiers/").content.decode()
    assert (f"DOSSIER{target.upper()}" in html) == (persona in FILES[target])


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_file_page(world, clients, persona, target):
    file = world.targets[target].file
    response = clients[persona].get(f"/staff/dossiers/{file.reference}/")
    assert_page(response, may_see=persona in FILES[target], target=target, shows=file)


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_file_move(world, clients, persona, target):
    file = world.targets[target].file
    response = clients[persona].post(
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
def test_bulk_move(world, clients, persona, target):
    file = world.targets[target].file
    response = clients[persona].post(
        "/staff/dossiers/", {"files": [file.reference], "to": "on_hold"}, follow=True
    )
    assert response.status_code == 200
    # Another office's file is reported exactly as one that does not exist.
    found = f"{file.reference} (introuvable)" not in response.content.decode()
    assert found == (persona in FILES[target])
    file.refresh_from_db()
    moved = persona in FILES[target] and persona in MAY_HOLD
    assert file.status == (FileStatus.ON_HOLD if moved else FileStatus.ENROLLED)


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_csv_export(clients, persona, target):
    response = clients[persona].get("/staff/dossiers/export.csv")
    if persona not in MAY_EXPORT:
        assert response.status_code == 403
        return
    body = response.content.decode("utf-8-sig")
    assert (f"DOSSIER{target.upper()}" in body) == (persona in FILES[target])


@pytest.mark.parametrize("persona", PERSONAS)
def test_backlog_dashboard(world, clients, persona):
    """Supervisors see their offices' figures, administrators every office's; 403 for
    anyone else, and the workspace offers the page only to those who may see it."""
    seen = {name for name, personas in BACKLOG.items() if persona in personas}
    response = clients[persona].get("/staff/backlog/")
    nav = clients[persona].get("/staff/dossiers/").content.decode()
    assert ('href="/staff/backlog/"' in nav) == bool(seen)
    if not seen:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.content.decode()
    for name, office in world.offices.items():
        assert (f'id="backlog-{office.code}"' in html) == (name in seen)
        if name not in seen:
            assert office.code not in html
    for secret in world.hidden_from(persona):
        assert secret not in html


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_free_an_identity_number(world, clients, persona, target):
    """Only the counter of an office frees an identity number from its page: anyone else
    gets 404 and nothing changes. The page shows neither office's bookings."""
    office, appointment = world.targets[target].office, world.targets[target].appointment
    url = f"/staff/agenda/{office.code}/liberer-un-numero/"
    form = {
        "national_id": appointment.national_id,
        "document": "carte NINA",
        "reason": "Réservé par un tiers",
        "checked": "on",
    }
    may = persona in COUNTER[target]

    page = clients[persona].get(url)
    response = clients[persona].post(url, form)

    appointment.refresh_from_db()
    if not may:
        assert (page.status_code, response.status_code) == (404, 404)
        assert appointment.status == Appointment.Status.BOOKED
        return
    assert page.status_code == 200
    for leaked in [*others_data(target), appointment.reference]:
        assert leaked not in page.content.decode()
    assert response.status_code == 302
    assert appointment.status == Appointment.Status.CANCELLED


# The waiting room's rate is the ministry's: it weighs on every office's server.
MAY_SET_WAITING_RATE = {"admin"}


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_waiting_room_rate(world, clients, persona, target):
    """Only administrators change the admission rate of a reopening's waiting room, from the
    backlog dashboard; anyone else gets 403 and the rate stays. The dashboard lists a line
    to whoever sees its office's backlog, and to nobody else."""
    from datetime import timedelta

    from django.utils import timezone

    from appointments.models import Suspension, WaitingLine

    office = world.offices[target]
    now = timezone.now()
    suspension = Suspension.objects.create(
        starts_at=now - timedelta(days=1), reopens_at=now + timedelta(minutes=10), message="S"
    )
    line = WaitingLine.objects.create(office=office, suspension=suspension, rate=20)
    response = clients[persona].post(f"/staff/backlog/attente/{line.pk}/", {"rate": "5"})
    line.refresh_from_db()
    if persona in MAY_SET_WAITING_RATE:
        assert response.status_code == 302
        assert line.rate == 5
    else:
        assert response.status_code == 403
        assert line.rate == 20
    dashboard = clients[persona].get("/staff/backlog/")
    if dashboard.status_code == 200:
        listed = f'id="waiting-line-{line.pk}"' in dashboard.content.decode()
        assert listed == (persona in BACKLOG[target])
