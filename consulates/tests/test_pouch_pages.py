"""The pouch pages: a centre's operators ship their missions' passports, the mission's
counter receives them; nobody else sees or touches a pouch."""

import pytest

from consulates import services
from consulates.models import Shipment
from production.models import FileStatus
from production.tests.factories import PassportFileFactory
from tests.support import log_in
from tests.world import COUNTER, OFFICES, PERSONAS, POUCH_SENDERS

pytestmark = pytest.mark.django_db


def test_pouch_pages_are_scoped_to_the_centre_and_the_mission(client, world):
    paris, staff = world.missions["paris"], world.users
    file = PassportFileFactory(
        centre=paris.centre, office=paris.office, status=FileStatus.QUALITY_CHECK, surname="SIDIBÉ"
    )
    log_in(client, staff["operator_kayes"])
    assert client.post(f"/staff/valises/missions/{paris.pk}/expedier/").status_code == 404
    assert not Shipment.objects.exists()

    log_in(client, staff["operator_bamako"])
    assert client.post(f"/staff/valises/missions/{paris.pk}/expedier/").status_code == 302
    shipment = Shipment.objects.get()

    log_in(client, staff["agent_dakar"])
    assert "SIDIBÉ" not in client.get("/staff/valises/").content.decode()
    assert client.post(f"/staff/valises/{shipment.pk}/reception/").status_code == 404
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SENT

    log_in(client, staff["agent_paris"])
    assert "SIDIBÉ" in client.get("/staff/valises/").content.decode()
    client.post(f"/staff/valises/{shipment.pk}/reception/", {"received": []})
    shipment.refresh_from_db()
    file.refresh_from_db()
    assert (shipment.status, file.status) == (Shipment.Status.INCOMPLETE, FileStatus.IN_TRANSIT)


# The generated matrix: personas × missions (the world of tests/world.py) ------------------

CASES = [(persona, target) for persona in PERSONAS for target in OFFICES]


def passport_checked_at(world, target: str):
    """A passport of the mission that passed quality control: ready for the pouch."""
    mission = world.missions[target]
    return PassportFileFactory(
        centre=mission.centre,
        office=mission.office,
        status=FileStatus.QUALITY_CHECK,
        surname=f"VALISE{target.upper()}",
    )


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_sending_a_pouch(client, world, persona, target):
    mission, file = world.missions[target], passport_checked_at(world, target)
    log_in(client, world.users[persona])
    response = client.post(f"/staff/valises/missions/{mission.pk}/expedier/")
    file.refresh_from_db()
    if persona in POUCH_SENDERS[target]:
        assert response.status_code == 302
        assert Shipment.objects.get().mission == mission
        assert file.status == FileStatus.IN_TRANSIT
    else:
        assert response.status_code == 404
        assert not Shipment.objects.exists()
        assert file.status == FileStatus.QUALITY_CHECK


@pytest.mark.parametrize(("persona", "target"), CASES)
def test_receiving_a_pouch(client, world, persona, target):
    mission, file = world.missions[target], passport_checked_at(world, target)
    [operator] = POUCH_SENDERS[target] - {"admin"}  # the operator of the mission's centre
    shipment = services.shipment_send(mission=mission, by=world.users[operator])
    log_in(client, world.users[persona])
    listed = client.get("/staff/valises/").content.decode()
    assert (file.surname in listed) == (persona in COUNTER[target])
    received = {"received": [file.reference]}
    response = client.post(f"/staff/valises/{shipment.pk}/reception/", received)
    shipment.refresh_from_db()
    file.refresh_from_db()
    if persona in COUNTER[target]:
        assert response.status_code == 302
        assert (shipment.status, file.status) == (Shipment.Status.RECEIVED, FileStatus.READY)
    else:
        assert response.status_code == 404
        assert (shipment.status, file.status) == (Shipment.Status.SENT, FileStatus.IN_TRANSIT)
