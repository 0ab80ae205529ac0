"""Helpers shared by tests: API clients, and what tests need for real threads, other
processes and Celery workers."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def token_client(user: User | None = None) -> APIClient:
    """An API client authenticated with the user's token, as staff applications are (none
    without a user)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def run_together(functions, *, timeout: float = 120) -> list:
    """Run the functions in threads released at the same instant (a barrier), each with its
    own database connection; returns what each returned or the exception it raised."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def worker(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    return results


def database_url() -> str:
    """A DATABASE_URL for another process to reach the test database (TCP or socket)."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    host = db["HOST"] or db["OPTIONS"].get("host", "")
    port = db["PORT"] or db["OPTIONS"].get("port", "")
    query = f"host={host}" + (f"&port={port}" if port else "")
    return f"postgresql://{credentials}@/{db['NAME']}?{query}"


@contextmanager
def celery_queue() -> Iterator[str]:
    """The name of a queue of its own for a test's worker, removed from Redis afterwards."""
    from kombu import Exchange, Queue

    from epassport.celery import app

    name = f"test-{uuid.uuid4().hex}"
    try:
        yield name
    finally:
        with app.connection_for_write() as conn:
            queue = Queue(name, Exchange(name), routing_key=name)(conn.default_channel)
            queue.declare()  # (kombu forgets a binding it has not declared itself)
            queue.delete()


# Staff logins -----------------------------------------------------------------------------

# The authenticator secret tests give supervisors and administrators (base32, 20 bytes).
TEST_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def totp_code(secret: str = TEST_TOTP_SECRET, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app holding `secret` shows now (or `steps_ahead` periods of
    30 seconds later: the portal accepts the next one too, for clocks a little ahead)."""
    from base64 import b32decode

    from django_otp.oath import totp

    return f"{totp(b32decode(secret), drift=steps_ahead):06d}"


def log_in(client, user: User) -> None:
    """Log a member of staff in, as the login page does: for a supervisor or administrator,
    with the proof of a second factor (a confirmed device, registered if they have none,
    marked in the session as django_otp.login does)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from core import access, twofactor
    from core.services import staff_totp_register

    client.force_login(user)
    if access.two_factor_required(user):
        device = twofactor.confirmed_device(user) or staff_totp_register(
            user=user, secret=TEST_TOTP_SECRET
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
