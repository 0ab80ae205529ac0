from zoneinfo import ZoneInfo

import factory

from appointments.models import Office


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
