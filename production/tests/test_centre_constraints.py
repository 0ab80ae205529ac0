"""A Centre stands only on an office of kind centre and has a positive capacity: enforced by
the database itself, so no code path (admin, shell, a future bug) can break it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from appointments.tests.factories import CentreOfficeFactory, OfficeFactory
from core.models import Office
from production.models import Centre
from production.services import centre_upsert
from production.tests.factories import CentreFactory

pytestmark = pytest.mark.django_db


def test_a_centre_on_a_mission_office_is_refused_by_the_database():
    mission_office = OfficeFactory(kind=Office.Kind.MISSION)
    with pytest.raises(IntegrityError, match="centre_office_is_centre"), transaction.atomic():
        Centre.objects.create(office=mission_office, daily_capacity=50)
    assert not Centre.objects.exists()


def test_a_centre_on_a_mission_office_is_refused_with_a_clear_message():
    mission_office = OfficeFactory(kind=Office.Kind.MISSION)
    with pytest.raises(ValidationError) as excinfo:
        centre_upsert(office=mission_office, daily_capacity=50)
    assert "office" in excinfo.value.message_dict
    assert not Centre.objects.exists()


@pytest.mark.parametrize("capacity", [0, -5])
def test_a_capacity_that_is_not_positive_is_refused_by_the_database(capacity):
    office = CentreOfficeFactory()
    expected = pytest.raises(IntegrityError, match="centre_daily_capacity_positive")
    with expected, transaction.atomic():
        Centre.objects.create(office=office, daily_capacity=capacity)
    assert not Centre.objects.exists()


def test_a_capacity_of_zero_is_refused_by_the_service():
    office = CentreOfficeFactory()
    with pytest.raises(ValidationError):
        centre_upsert(office=office, daily_capacity=0)


def test_the_office_of_a_centre_cannot_become_a_mission():
    centre = CentreFactory()
    with pytest.raises(IntegrityError, match="centre_office_is_centre"), transaction.atomic():
        Office.objects.filter(pk=centre.office_id).update(kind=Office.Kind.MISSION)
    centre.office.refresh_from_db()
    assert centre.office.kind == Office.Kind.CENTRE


def test_one_office_has_at_most_one_centre():
    centre = CentreFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Centre.objects.create(office=centre.office, daily_capacity=10)


def test_centre_upsert_is_idempotent_and_updates_the_capacity():
    office = CentreOfficeFactory()
    first = centre_upsert(office=office, daily_capacity=100)
    second = centre_upsert(office=office, daily_capacity=150)
    assert first.pk == second.pk
    assert Centre.objects.get().daily_capacity == 150
