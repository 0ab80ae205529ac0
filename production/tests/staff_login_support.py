"""Helpers shared by the tests of the staff login (test_staff_login.py,
test_staff_lockout.py): the login page, a moment to freeze the clock at, an attempt to log in
from an address, and who the client's session is logged in as."""

LOGIN = "/staff/connexion/"
NOON = "2026-03-02T12:00:00Z"


def attempt(client, username, password="pw", code="", address="198.51.100.7", **extra):  # noqa: S107
    return client.post(
        LOGIN,
        {"username": username, "password": password, "code": code, **extra},
        REMOTE_ADDR=address,
    )


def logged_in_as(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return None if user_id is None else str(user_id)
