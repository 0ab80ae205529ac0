"""The lockout of the staff login after repeated failures, by account and by address: at the
login page, at the admin's and at the API's token, never of an office's whole network nor of
an owner by a stranger who knows the username, lifted by an administrator, and with no
password nor code kept in the attempts table."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from appointments.tests.factories import member
from core.services import staff_totp_register
from production.tests.staff_login_support import LOGIN, NOON, attempt, logged_in_as
from tests.support import TEST_TOTP_SECRET, log_in, totp_code

pytestmark = pytest.mark.django_db


# Lockout ------------------------------------------------------------------------------------


def test_a_pair_is_locked_after_five_failures_and_the_account_stays_open_elsewhere(
    client, paris, freeze
):
    freeze(NOON)
    agent = member("agent", paris.office, username="awa")
    answers = [attempt(client, "awa", "wrong", address="203.0.113.9") for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 429]
    # The right password from that address: refused, with a page that says why.
    response = attempt(client, "awa", "pw", address="203.0.113.9")
    assert response.status_code == 429
    assert "Connexion bloquée" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert response["Retry-After"] == "900"
    assert logged_in_as(client) is None
    # The lockout ends when announced.
    freeze("2026-03-02T12:16:00Z")
    assert attempt(client, "awa", "pw", address="203.0.113.9").status_code == 302
    assert logged_in_as(client) == str(agent.pk)


def test_failures_spread_over_addresses_lock_no_username(client, paris, freeze):
    """Usernames are easy to guess: failures from many addresses must not lock the account
    for its owner (each address only locks itself once over the limit)."""
    freeze(NOON)
    agent = member("agent", paris.office, username="awa")
    for i in range(20):
        attempt(client, "awa", "wrong", address=f"203.0.113.{i}")
    assert attempt(client, "awa", "pw", address="192.0.2.50").status_code == 302
    assert logged_in_as(client) == str(agent.pk)


def test_an_address_is_locked_after_five_failures_whatever_the_account(client, paris):
    member("agent", paris.office, username="awa")
    for name in ["a", "b", "c", "d", "e"]:
        attempt(client, name, "guess", address="203.0.113.9")
    assert attempt(client, "awa", "pw", address="203.0.113.9").status_code == 429
    assert logged_in_as(client) is None
    # From another address, the account itself is not locked.
    assert attempt(client, "awa", "pw", address="192.0.2.50").status_code == 302


def test_an_office_network_is_never_locked_as_a_whole(client, paris, settings):
    """Someone at the office who fails five times on their own name, or a stranger on the
    office's network trying names, locks those names from there, not their colleagues."""
    settings.STAFF_NETWORKS = ["198.51.100.0/24"]
    colleague = member("agent", paris.office, username="awa")
    for name in ["a", "b", "c", "d", "e", "f"]:
        attempt(client, name, "guess", address="198.51.100.7")
    for _ in range(5):
        attempt(client, "moussa", "guess", address="198.51.100.7")
    assert attempt(client, "moussa", "guess", address="198.51.100.7").status_code == 429
    assert attempt(client, "awa", "pw", address="198.51.100.7").status_code == 302
    assert logged_in_as(client) == str(colleague.pk)
    # Outside those networks the same address would be locked.
    client.logout()
    settings.STAFF_NETWORKS = []
    assert attempt(client, "awa", "pw", address="198.51.100.7").status_code == 429


def test_the_admin_login_locks_too_and_an_administrator_unlocks(client, paris):
    member("agent", paris.office, username="awa", is_staff=True)
    admin_login = reverse("admin:login")
    for _ in range(5):
        client.post(admin_login, {"username": "awa", "password": "x"}, REMOTE_ADDR="203.0.113.9")
    assert attempt(client, "awa", "pw", address="203.0.113.9").status_code == 429

    # An administrator of the ministry lifts it in the admin (Axes: access attempts).
    minister = member("admin", username="minister", is_staff=True, is_superuser=True)
    log_in(client, minister)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "awa" in client.get(changelist).content.decode()
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = client.post(
        changelist, {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    client.logout()
    assert attempt(client, "awa", "pw", address="203.0.113.9").status_code == 302


def test_the_attempts_table_keeps_no_password_nor_code(client, supervisor):
    attempt(client, "sup", "my-secret-guess", code="123456")
    stored = AccessAttempt.objects.get()
    assert "my-secret-guess" not in stored.post_data
    assert "123456" not in stored.post_data


# A stranger who knows a username ------------------------------------------------------------


def _page(client, username, password, code, address):
    response = client.post(
        LOGIN, {"username": username, "password": password, "code": code}, REMOTE_ADDR=address
    )
    return response.status_code == 302 and logged_in_as(client) is not None


def _admin(client, username, password, code, address):
    login = reverse("admin:login")
    body = {"username": username, "password": password, "code": code, "next": "/"}
    response = client.post(login, body, REMOTE_ADDR=address)
    return response.status_code == 302 and logged_in_as(client) is not None


def _token(client, username, password, code, address):
    body = {"username": username, "password": password, "otp": code}
    response = client.post("/api/v1/auth/token/", body, "application/json", REMOTE_ADDR=address)
    return response.status_code == 200 and "token" in response.json()


@pytest.mark.parametrize("entrance", [_page, _admin, _token], ids=["page", "admin", "token"])
def test_twelve_wrong_passwords_from_one_address_do_not_lock_the_owner_out(
    client, paris, settings, freeze, entrance
):
    """The README names `agent.bko`: a stranger's twelve wrong passwords from address A lock
    A, and the owner logs in from address B with the right password and code."""
    settings.RATE_LIMITS = False  # the lockout, not the per-address rate limit
    freeze(NOON)
    owner = member("admin", username="agent.bko", is_staff=True, is_superuser=True)
    staff_totp_register(user=owner, secret=TEST_TOTP_SECRET)
    stranger = "203.0.113.66"
    for i in range(12):
        assert not entrance(client, "agent.bko", f"guess-{i}", "123456", stranger)
    assert AccessAttempt.objects.filter(username="agent.bko").exists()
    # Even the right password and code do not open from the stranger's address now.
    freeze("2026-03-02T12:01:00Z")
    assert not entrance(client, "agent.bko", "pw", totp_code(), stranger)
    freeze("2026-03-02T12:02:00Z")
    assert entrance(client, "agent.bko", "pw", totp_code(), "192.0.2.50")
