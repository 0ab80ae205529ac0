"""A helper shared by the tests of the staff API (test_api_staff.py, test_api_files.py)."""

from appointments.tests.factories import member
from tests.support import token_client


def agents_api(mission):
    """The API as a new agent of the mission calls it."""
    return token_client(member("agent", mission.office))
