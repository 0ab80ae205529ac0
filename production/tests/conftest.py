from zoneinfo import ZoneInfo

import pytest

from appointments.tests.factories import OfficeFactory, SlotFactory, member, paris_consulate
from appointments.tests.smtp_server import smtp_server
from consulates.tests.factories import MissionFactory
from core.services import staff_totp_register
from production.tests.factories import CentreFactory
from tests.support import TEST_TOTP_SECRET
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


# The staff login (test_staff_login.py, test_staff_lockout.py) ------------------------------


@pytest.fixture
def supervisor(paris):
    """A supervisor of Paris whose authenticator app holds TEST_TOTP_SECRET."""
    user = member("supervisor", paris.office, username="sup")
    staff_totp_register(user=user, secret=TEST_TOTP_SECRET)
    return user


# The status page (test_status_page.py, test_status_figures.py) -----------------------------


@pytest.fixture
def washington(bamako):
    """The embassy in Washington (America/New_York), produced by Bamako."""
    return MissionFactory(
        office=OfficeFactory(
            code="washington-ambassade",
            name="Ambassade du Mali à Washington",
            name_en="Embassy of Mali in Washington",
            city="Washington",
            country="US",
            timezone=ZoneInfo("America/New_York"),
        ),
        centre=bamako,
    )


@pytest.fixture
def offices(bamako, paris, washington):
    """Bamako, Paris and Washington, each with a free slot."""
    offices = {"bamako": bamako.office, "paris": paris.office, "washington": washington.office}
    for office in offices.values():
        SlotFactory(office=office)
    return offices
