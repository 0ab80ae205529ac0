"""A pouch tells each file's applicant twice: when it leaves the centre (in transit) and
when the mission receives it (ready); a passport missing from the pouch is not told ready."""

import pytest

from appointments.tests.factories import member
from consulates import services
from core.models import OutboxMessage
from production.models import FileStatus
from production.tests.factories import PassportFileFactory, applicant_file

pytestmark = pytest.mark.django_db


def kinds(file) -> list[tuple[str, str]]:
    return sorted(
        OutboxMessage.objects.filter(
            appointment_id=file.appointment_id, kind__startswith="file_"
        ).values_list("kind", "channel")
    )


def test_a_pouch_sent_and_received_tells_each_applicant_once_at_each_end(paris):
    files = [
        applicant_file(paris.office, centre=paris.centre, status=FileStatus.QUALITY_CHECK)
        for _ in range(3)
    ]
    PassportFileFactory(centre=paris.centre, office=paris.office, status="quality_check")

    shipment = services.shipment_send(mission=paris, by=member("operator", paris.centre.office))

    in_transit = [("file_in_transit", "email"), ("file_in_transit", "sms")]
    assert [kinds(file) for file in files] == [in_transit] * 3

    arrived = [files[0].reference, files[1].reference]
    services.shipment_receive(
        shipment=shipment, by=member("agent", paris.office), received=arrived
    )

    ready = [("file_ready", "email"), ("file_ready", "sms")]
    assert kinds(files[0]) == kinds(files[1]) == sorted(in_transit + ready)
    assert kinds(files[2]) == in_transit  # missing from the pouch: looked for, not announced
    assert OutboxMessage.objects.filter(kind__startswith="file_").count() == 10
