import pytest
from django.contrib.auth.models import User

from appointments.models import Membership, Office
from appointments.tests.factories import OfficeFactory
from consulates.models import Shipment
from consulates.tests.factories import MissionFactory
from production.models import FileStatus
from production.tests.factories import CentreFactory, PassportFileFactory

pytestmark = pytest.mark.django_db


def member(role, office):
    user = User.objects.create_user(f"{role}-{office.code}-{User.objects.count()}")
    Membership.objects.create(user=user, role=role, office=office)
    return user


def test_pouch_pages_are_scoped_to_the_centre_and_the_mission(client):
    bamako = CentreFactory(office__code="bko-centre")
    paris = MissionFactory(
        office__code="paris-consulat", office__kind=Office.Kind.MISSION, centre=bamako
    )
    file = PassportFileFactory(
        centre=bamako, office=paris.office, status=FileStatus.QUALITY_CHECK, surname="SIDIBÉ"
    )
    kayes_operator = member("operator", CentreFactory(office__code="kayes-centre").office)
    client.force_login(kayes_operator)
    assert client.post(f"/staff/valises/missions/{paris.pk}/expedier/").status_code == 404
    assert not Shipment.objects.exists()

    client.force_login(member("operator", bamako.office))
    assert client.post(f"/staff/valises/missions/{paris.pk}/expedier/").status_code == 302
    shipment = Shipment.objects.get()

    dakar_agent = member("agent", OfficeFactory(code="dakar-consulat"))
    client.force_login(dakar_agent)
    assert "SIDIBÉ" not in client.get("/staff/valises/").content.decode()
    assert client.post(f"/staff/valises/{shipment.pk}/reception/").status_code == 404

    client.force_login(member("agent", paris.office))
    assert "SIDIBÉ" in client.get("/staff/valises/").content.decode()
    client.post(f"/staff/valises/{shipment.pk}/reception/", {"received": []})
    shipment.refresh_from_db()
    file.refresh_from_db()
    assert (shipment.status, file.status) == (Shipment.Status.INCOMPLETE, FileStatus.IN_TRANSIT)
