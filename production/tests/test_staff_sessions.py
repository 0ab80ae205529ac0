"""Staff sessions end after 30 minutes without a request and 12 hours after the login, in the
workspace and in the API alike; applicants' pages keep no session."""

from datetime import UTC, datetime, timedelta

import pytest

from appointments.tests.factories import member
from tests.support import log_in

pytestmark = pytest.mark.django_db

LOGIN = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def agent_client(client, paris, freeze):
    freeze(LOGIN)
    log_in(client, member("agent", paris.office, username="awa"))
    return client


def at(freeze, minutes: float) -> None:
    freeze(LOGIN + timedelta(minutes=minutes))


def test_a_session_ends_after_30_minutes_without_a_request(agent_client, freeze):
    for minutes in [0, 29, 58, 87]:  # each request within 30 minutes of the one before
        at(freeze, minutes)
        assert agent_client.get("/staff/dossiers/").status_code == 200, minutes
    at(freeze, 87 + 31)
    response = agent_client.get("/staff/dossiers/")
    assert response.status_code == 302
    assert response.url.startswith("/staff/connexion/?next=")
    follow = agent_client.get(response.url)
    assert "Votre session a expiré" in follow.content.decode()
    assert "_auth_user_id" not in agent_client.session


def test_a_session_ends_12_hours_after_the_login_however_busy(agent_client, freeze):
    minutes = 0
    while minutes < 12 * 60:
        at(freeze, minutes)
        assert agent_client.get("/staff/dossiers/").status_code == 200, minutes
        minutes += 25
    at(freeze, 12 * 60 + 1)
    assert agent_client.get("/staff/dossiers/").status_code == 302
    assert "_auth_user_id" not in agent_client.session


def test_the_api_ends_the_session_too(agent_client, freeze):
    assert agent_client.get("/api/v1/files/").status_code == 200
    at(freeze, 31)
    response = agent_client.get("/api/v1/files/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_supervisors_session_ends_likewise(client, paris, freeze):
    freeze(LOGIN)
    log_in(client, member("supervisor", paris.office))
    assert client.get("/staff/backlog/").status_code == 200
    at(freeze, 31)
    assert client.get("/staff/backlog/").status_code == 302


def test_applicants_pages_open_no_session(client, paris, freeze):
    freeze(LOGIN)
    response = client.get("/")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    at(freeze, 600)
    assert client.get(f"/bureaux/{paris.office.code}/").status_code == 200


def test_the_session_cookie_lasts_no_longer_than_the_session(settings, client, paris):
    member("agent", paris.office, username="awa")
    response = client.post("/staff/connexion/", {"username": "awa", "password": "pw"})
    assert response.cookies["sessionid"]["max-age"] == 12 * 3600
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
