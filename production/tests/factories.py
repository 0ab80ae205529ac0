import factory

from appointments.tests.factories import CentreOfficeFactory
from production.models import Centre


class CentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Centre

    office = factory.SubFactory(CentreOfficeFactory)
    daily_capacity = 200
