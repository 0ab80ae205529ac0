"""files_visible_to: the one selector every staff read of files goes through."""

import pytest

from appointments.tests.factories import OfficeFactory, UserFactory, member
from core.models import Office
from production.selectors import files_visible_to
from production.tests.factories import CentreFactory, PassportFileFactory

pytestmark = pytest.mark.django_db


def test_each_member_of_staff_sees_only_the_files_of_their_offices():
    bamako = CentreFactory(office__code="bko-centre")
    kayes = CentreFactory(office__code="kayes-centre")
    paris = OfficeFactory(code="paris-consulat", kind=Office.Kind.MISSION)
    dakar = OfficeFactory(code="dakar-consulat", kind=Office.Kind.MISSION)
    at_paris = PassportFileFactory(centre=bamako, office=paris)
    at_bamako = PassportFileFactory(centre=bamako)
    at_dakar = PassportFileFactory(centre=kayes, office=dakar)

    def visible(user):
        return set(files_visible_to(user=user))

    assert visible(member("agent", paris)) == {at_paris}
    assert visible(member("supervisor", dakar)) == {at_dakar}
    assert visible(member("operator", bamako.office)) == {at_paris, at_bamako}
    assert visible(member("operator", kayes.office)) == {at_dakar}
    assert visible(member("admin")) == {at_paris, at_bamako, at_dakar}
    assert visible(UserFactory()) == set()  # an account without a membership
