"""The production layout of scripts/rehearse.py, started for real: Debian's nginx in front of
two gunicorn instances, PgBouncer in session mode behind them. Through the proxy every
per-address rule (the login lockout, the rate limits) sees the client's own address, not the
proxy's, whatever X-Forwarded-For the client writes; straight to a gunicorn port, the header
chooses nothing; /metrics is never served through the proxy; and when an instance dies, the
other answers.

Skipped, with the reason, only where Debian's nginx and pgbouncer cannot be installed (the
test suite installs them with apt-get like chromium: scripts/devstack.py)."""

import http.client
import json

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User

from appointments.tests.factories import member, paris_consulate
from scripts.rehearse import Stack, ensure_packages
from tests.servers import portal_env
from tests.support import database_url

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def stack(tmp_path, settings):
    missing = ensure_packages()
    if missing:
        pytest.skip(f"Debian packages {', '.join(missing)} cannot be installed on this machine")
    env = portal_env(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        CACHE_KEY_PREFIX=settings.CACHES["default"]["KEY_PREFIX"],
        RATE_LIMITS="true",
        TRACK_RATE="3/m",
        LOGIN_RATE="100/m",
        TRUSTED_PROXY_COUNT="1",
        TRUSTED_PROXIES="127.0.0.1",
    )
    with Stack(
        env, database_url=database_url(), directory=tmp_path / "stack", workers=1, celery=False
    ) as running:
        yield running


def ask(port: int, method: str, path: str, *, source: str, body=None, headers=None):
    """One request from the loopback address `source` (127.0.0.2, ...: a client of its own),
    to nginx or straight to a gunicorn port."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    payload = None if body is None else json.dumps(body)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    try:
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def agent(username: str = "awa") -> User:
    """A member of staff whose password `pw` the portal's processes can check (the test
    settings hash with MD5, which the portal's own settings do not accept)."""
    user = member("agent", paris_consulate(), username=username)
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode("pw", hasher.salt())
    user.save(update_fields=["password"])
    return user


def token(port: int, source: str, password: str, headers=None) -> int:
    body = {"username": "awa", "password": password}
    return ask(port, "POST", TOKEN, source=source, body=body, headers=headers)[0]


def test_through_the_proxy_the_lockout_counts_the_clients_own_address(stack):
    agent()
    proxy = stack.proxy_port
    statuses = [token(proxy, "127.0.0.2", "guess") for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    assert token(proxy, "127.0.0.2", "pw") == 429  # this client's pair is locked
    # Another client through the same proxy is not: the portal did not count the proxy's
    # address, and the header the client writes does not make it the locked one.
    assert token(proxy, "127.0.0.3", "pw", headers={"X-Forwarded-For": "127.0.0.2"}) == 200


def test_straight_to_gunicorn_the_header_chooses_no_address(stack):
    agent()
    instance = stack.instance_ports[1]
    for n in range(5):
        # A client that can reach gunicorn without the proxy writes a new address each time.
        token(instance, "127.0.0.4", "guess", headers={"X-Forwarded-For": f"198.51.100.{n}"})
    fresh = {"X-Forwarded-For": "198.51.100.99"}
    assert token(instance, "127.0.0.4", "pw", headers=fresh) == 429


def test_through_the_proxy_each_client_has_its_own_rate_limit(stack):
    path = "/api/v1/track/?reference=DACDEF-GHJKM&birth_date=1990-01-01"
    proxy = stack.proxy_port
    assert [ask(proxy, "GET", path, source="127.0.0.5")[0] for _ in range(3)] == [404] * 3
    assert ask(proxy, "GET", path, source="127.0.0.5")[0] == 429
    assert ask(proxy, "GET", path, source="127.0.0.6")[0] == 404


def test_metrics_never_go_through_the_proxy(stack):
    assert ask(stack.proxy_port, "GET", "/metrics", source="127.0.0.1")[0] == 404
    status, body = ask(stack.instance_ports[0], "GET", "/metrics", source="127.0.0.1")
    assert status == 200
    assert b"epassport_" in body


def test_when_an_instance_dies_the_other_answers(stack):
    paris_consulate()
    assert ask(stack.proxy_port, "GET", "/", source="127.0.0.7")[0] == 200
    stack.kill_instance(0)
    statuses = [ask(stack.proxy_port, "GET", "/", source="127.0.0.7")[0] for _ in range(10)]
    assert statuses == [200] * 10
