import factory

from appointments.tests.factories import OfficeFactory
from consulates.models import Mission
from production.tests.factories import CentreFactory


class MissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mission

    office = factory.SubFactory(OfficeFactory)
    centre = factory.SubFactory(CentreFactory)
    pouch_weekdays = factory.LazyFunction(lambda: [1, 3])
