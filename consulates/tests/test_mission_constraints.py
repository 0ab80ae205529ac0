import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from appointments.tests.factories import CentreOfficeFactory, OfficeFactory
from consulates.models import Mission
from consulates.services import mission_upsert
from consulates.tests.factories import MissionFactory
from production.tests.factories import CentreFactory

pytestmark = pytest.mark.django_db


def test_a_mission_on_a_centre_office_is_refused_by_the_database():
    centre = CentreFactory()
    other_centre_office = CentreOfficeFactory()
    with pytest.raises(IntegrityError, match="mission_office_is_mission"), transaction.atomic():
        Mission.objects.create(office=other_centre_office, centre=centre, pouch_weekdays=[1])
    assert not Mission.objects.exists()


def test_a_mission_on_a_centre_office_is_refused_with_a_clear_message():
    centre = CentreFactory()
    with pytest.raises(ValidationError) as excinfo:
        mission_upsert(office=centre.office, centre=centre, pouch_weekdays=[1])
    assert "office" in excinfo.value.message_dict


@pytest.mark.parametrize("weekdays", [[7], [-1], [0, 9]])
def test_pouch_weekdays_outside_monday_to_sunday_are_refused(weekdays):
    centre = CentreFactory()
    office = OfficeFactory()
    expected = pytest.raises(IntegrityError, match="mission_pouch_weekdays_valid")
    with expected, transaction.atomic():
        Mission.objects.create(office=office, centre=centre, pouch_weekdays=weekdays)


def test_mission_upsert_is_idempotent_and_normalises_weekdays():
    mission = MissionFactory(pouch_weekdays=[1])
    again = mission_upsert(office=mission.office, centre=mission.centre, pouch_weekdays=[3, 1, 3])
    assert again.pk == mission.pk
    assert Mission.objects.get().pouch_weekdays == [1, 3]
    assert [str(label) for label in again.pouch_weekday_labels] == ["mardi", "jeudi"]
