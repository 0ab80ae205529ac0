import itertools
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone

from appointments.models import Office, Slot
from appointments.services import Applicant


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"office-{n}")
    name = factory.LazyAttribute(lambda o: f"Bureau {o.city}")
    kind = Office.Kind.MISSION
    city = factory.Faker("city", locale="fr_FR")
    country = "FR"
    timezone = ZoneInfo("Europe/Paris")
    address = factory.Faker("address", locale="fr_FR")
    active = True


class CentreOfficeFactory(OfficeFactory):
    code = factory.Sequence(lambda n: f"centre-{n}")
    kind = Office.Kind.CENTRE
    country = "ML"
    city = "Bamako"
    timezone = ZoneInfo("Africa/Bamako")


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Slot

    office = factory.SubFactory(OfficeFactory)
    starts_at = factory.Sequence(
        lambda n: (
            timezone.now().replace(minute=0, second=0, microsecond=0)
            + timedelta(days=2, minutes=15 * n)
        )
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=15))
    capacity = 3


_identity = itertools.count(100000)


def applicant(**overrides) -> Applicant:
    """A valid, normalised applicant with a fresh identity number."""
    values = {
        "surname": "TRAORÉ",
        "given_names": "Aminata",
        "birth_date": date(1990, 5, 17),
        "national_id": f"NINA{next(_identity):011d}",
        "email": "aminata.traore@example.org",
        "phone": "+22376123456",
        "language": "fr",
    }
    values.update(overrides)
    return Applicant(**values)
