import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from appointments.services import office_upsert
from appointments.tests.factories import PARIS
from core.models import Office

pytestmark = pytest.mark.django_db


def test_office_upsert_creates_then_updates_without_duplicating():
    created = office_upsert(code="paris-consulat", **PARIS)
    updated = office_upsert(code="paris-consulat", **{**PARIS, "city": "Paris 17e"})
    assert created.pk == updated.pk
    assert Office.objects.get().city == "Paris 17e"


@pytest.mark.parametrize("timezone", ["Europe/Pariss", "GMT+25", ""])
def test_an_unknown_timezone_is_refused(timezone):
    with pytest.raises(ValidationError) as excinfo:
        office_upsert(code="paris-consulat", **{**PARIS, "timezone": timezone})
    assert "timezone" in excinfo.value.message_dict
    assert not Office.objects.exists()


def test_an_unknown_country_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        office_upsert(code="paris-consulat", **{**PARIS, "country": "XX"})
    assert "country" in excinfo.value.message_dict


@pytest.mark.parametrize("code", ["Paris", "paris consulat", "paris--consulat", "-paris"])
def test_a_code_that_is_not_a_lowercase_slug_is_refused_by_the_database(code):
    with pytest.raises(IntegrityError, match="office_code_slug"), transaction.atomic():
        Office.objects.create(code=code, **PARIS)


def test_a_kind_outside_centre_and_mission_is_refused_by_the_database():
    with pytest.raises(IntegrityError, match="office_kind_valid"), transaction.atomic():
        Office.objects.create(code="paris-consulat", **{**PARIS, "kind": "embassy"})


def test_codes_are_unique():
    office_upsert(code="paris-consulat", **PARIS)
    with pytest.raises(IntegrityError), transaction.atomic():
        Office.objects.create(code="paris-consulat", **PARIS)
