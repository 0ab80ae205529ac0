import pytest

from appointments.tests.factories import paris_consulate
from consulates.tests.factories import MissionFactory
from production.tests.factories import CentreFactory
from tests.world import build_world


@pytest.fixture
def world(db):
    """Paris and Dakar, their centres, a member of staff of each kind (tests/world.py)."""
    return build_world()


@pytest.fixture
def bamako():
    """The centre of Bamako."""
    return CentreFactory(office__code="bko-centre")


@pytest.fixture
def paris(bamako):
    """The mission of Paris, whose passports Bamako produces."""
    return MissionFactory(office=paris_consulate(), centre=bamako)
