import pytest

from appointments.tests.factories import paris_consulate
from appointments.tests.smtp_server import smtp_server
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


@pytest.fixture
def inbox(settings):
    """A real SMTP server on localhost receiving the portal's emails."""
    with smtp_server(settings) as handler:
        yield handler
