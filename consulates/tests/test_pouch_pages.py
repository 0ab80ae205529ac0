import pytest

from consulates.models import Shipment
from production.models import FileStatus
from production.tests.factories import PassportFileFactory

pytestmark = pytest.mark.django_db


def test_pouch_pages_are_scoped_to_the_centre_and_the_mission(client, world):
    paris, staff = world.missions["paris"], world.users
    file = PassportFileFactory(
        centre=paris.centre, office=paris.office, status=FileStatus.QUALITY_CHECK, surname="SIDIBÉ"
    )
    client.force_login(staff["operator_kayes"])
    assert client.post(f"/staff/valises/missions/{paris.pk}/expedier/").status_code == 404
    assert not Shipment.objects.exists()

    client.force_login(staff["operator_bamako"])
    assert client.post(f"/staff/valises/missions/{paris.pk}/expedier/").status_code == 302
    shipment = Shipment.objects.get()

    client.force_login(staff["agent_dakar"])
    assert "SIDIBÉ" not in client.get("/staff/valises/").content.decode()
    assert client.post(f"/staff/valises/{shipment.pk}/reception/").status_code == 404
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SENT

    client.force_login(staff["agent_paris"])
    assert "SIDIBÉ" in client.get("/staff/valises/").content.decode()
    client.post(f"/staff/valises/{shipment.pk}/reception/", {"received": []})
    shipment.refresh_from_db()
    file.refresh_from_db()
    assert (shipment.status, file.status) == (Shipment.Status.INCOMPLETE, FileStatus.IN_TRANSIT)
