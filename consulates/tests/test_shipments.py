"""Pouches: a centre ships a mission's passports, the mission receives them, counted."""

import pytest
from django.db import IntegrityError, transaction

from appointments.tests.factories import member
from consulates import services
from consulates.errors import NothingToShip, NotInShipment, ShipmentAlreadyReceived
from consulates.models import Shipment, ShipmentItem
from core.errors import NotFound
from production.models import FileEvent, FileStatus
from production.tests.factories import CentreFactory, PassportFileFactory

pytestmark = pytest.mark.django_db


def checked(mission, n):
    return [
        PassportFileFactory(
            centre=mission.centre, office=mission.office, status=FileStatus.QUALITY_CHECK
        )
        for _ in range(n)
    ]


def test_a_pouch_with_a_missing_passport_is_flagged_not_lost(paris):
    files = checked(paris, 3)
    elsewhere = PassportFileFactory(centre=paris.centre, status=FileStatus.QUALITY_CHECK)
    operator = member("operator", paris.centre.office)
    shipment = services.shipment_send(mission=paris, by=operator)

    assert shipment.expected_count == 3
    assert set(shipment.items.values_list("file", flat=True)) == {f.pk for f in files}
    for file in files:
        file.refresh_from_db()
        assert file.status == FileStatus.IN_TRANSIT
    elsewhere.refresh_from_db()
    assert elsewhere.status == FileStatus.QUALITY_CHECK  # a centre's own file never travels

    agent = member("agent", paris.office)
    arrived = [files[0].reference, files[1].reference]
    shipment = services.shipment_receive(shipment=shipment, by=agent, received=arrived)

    assert (shipment.status, shipment.received_count) == (Shipment.Status.INCOMPLETE, 2)
    statuses = {f.reference: f.status for f in [f.__class__.objects.get(pk=f.pk) for f in files]}
    assert statuses == {
        files[0].reference: FileStatus.READY,
        files[1].reference: FileStatus.READY,
        files[2].reference: FileStatus.IN_TRANSIT,
    }
    missing = ShipmentItem.objects.get(shipment=shipment, file=files[2])
    assert missing.received is False
    assert FileEvent.objects.filter(file=files[0], to_status="ready", by=agent).exists()


def test_a_complete_pouch_is_received(paris):
    files = checked(paris, 2)
    shipment = services.shipment_send(mission=paris, by=member("operator", paris.centre.office))
    received = services.shipment_receive(
        shipment=shipment,
        by=member("supervisor", paris.office),
        received=[f.reference for f in files],
    )
    assert (received.status, received.received_count) == (Shipment.Status.RECEIVED, 2)


def test_a_pouch_is_received_once_and_only_with_its_own_passports(paris):
    files = checked(paris, 1)
    shipment = services.shipment_send(mission=paris, by=member("operator", paris.centre.office))
    agent = member("agent", paris.office)
    with pytest.raises(NotInShipment):
        services.shipment_receive(shipment=shipment, by=agent, received=["DNOPE-00000"])
    services.shipment_receive(shipment=shipment, by=agent, received=[files[0].reference])
    with pytest.raises(ShipmentAlreadyReceived):
        services.shipment_receive(shipment=shipment, by=agent, received=[files[0].reference])


def test_nothing_to_ship_and_outsiders(paris):
    with pytest.raises(NothingToShip):
        services.shipment_send(mission=paris, by=member("operator", paris.centre.office))
    checked(paris, 1)
    other_centre = CentreFactory(office__code="kayes-centre")
    with pytest.raises(NotFound):
        services.shipment_send(mission=paris, by=member("operator", other_centre.office))
    assert not Shipment.objects.exists()


def test_a_passport_travels_in_one_open_pouch_at_a_time(paris):
    file = checked(paris, 1)[0]
    operator = member("operator", paris.centre.office)
    shipment = services.shipment_send(mission=paris, by=operator)
    second = Shipment.objects.create(
        mission=paris, centre=paris.centre, expected_count=1, sent_by=operator
    )
    refused = pytest.raises(IntegrityError, match="shipment_item_one_open_per_file")
    with refused, transaction.atomic():
        ShipmentItem.objects.create(shipment=second, file=file)
    assert shipment.items.count() == 1
