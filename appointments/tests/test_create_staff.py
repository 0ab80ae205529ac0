"""`manage.py create_staff`: memberships, the password (from STAFF_PASSWORD or typed twice at a
terminal, never on the command line, checked by Django's validators) and --totp-secret."""

import os
import pty
import select
import subprocess
import sys
import time
from base64 import b32decode

import pytest
from django.conf import global_settings, settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from appointments.tests.factories import OfficeFactory
from core import twofactor
from core.models import Membership
from tests.support import database_url

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", "s3cret-Pass")
    return "s3cret-Pass"


def memberships(username: str) -> set[tuple[str | None, str]]:
    return {
        (m.office.code if m.office else None, m.role)
        for m in Membership.objects.filter(user__username=username).select_related("office")
    }


def code_of(secret: str) -> str:
    return f"{totp(b32decode(secret)):06d}"


def test_create_staff_is_idempotent_and_sets_exactly_the_given_offices(password):
    OfficeFactory(code="paris-consulat")
    OfficeFactory(code="lyon-consulat")
    args = ["--username", "awa", "--role", "agent"]
    call_command("create_staff", *args, "--office", "paris-consulat", "--office", "lyon-consulat")
    call_command("create_staff", *args, "--office", "paris-consulat", "--office", "lyon-consulat")
    assert memberships("awa") == {("paris-consulat", "agent"), ("lyon-consulat", "agent")}
    call_command("create_staff", *args, "--office", "paris-consulat")
    assert memberships("awa") == {("paris-consulat", "agent")}
    user = User.objects.get(username="awa")
    assert user.check_password(password)
    assert not user.is_staff  # the staff workspace, not the Django admin


def test_an_administrator_has_every_office_and_the_admin_site(password):
    call_command("create_staff", "--username", "min", "--role", "admin")
    assert memberships("min") == {(None, "admin")}
    assert User.objects.get(username="min").is_staff


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--role", "agent"], "bureau"),
        (["--role", "agent", "--office", "nowhere"], "nowhere"),
        (["--role", "admin", "--office", "paris-consulat"], "administrateur"),
    ],
)
def test_bad_arguments_are_refused_clearly(password, extra, message):
    OfficeFactory(code="paris-consulat")
    with pytest.raises(CommandError, match=message):
        call_command("create_staff", "--username", "x", *extra)
    assert not User.objects.filter(username="x").exists()


def test_the_password_is_never_taken_from_the_command_line(password):
    with pytest.raises(CommandError, match="unrecognized arguments: --password"):
        call_command("create_staff", "--username", "x", "--role", "admin", "--password", "pw")
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("weak", "message"),
    [
        ("court1", "trop court"),  # MinimumLengthValidator
        ("password123", "trop courant"),  # CommonPasswordValidator
        ("4815162342", "entièrement numérique"),  # NumericPasswordValidator
        ("mariam.kone", "trop semblable"),  # UserAttributeSimilarityValidator
    ],
)
def test_a_weak_password_is_refused_by_django_validators(monkeypatch, weak, message):
    monkeypatch.setenv("STAFF_PASSWORD", weak)
    with pytest.raises(CommandError, match=message):
        call_command("create_staff", "--username", "mariam.kone", "--role", "admin")
    assert not User.objects.exists()


def test_without_staff_password_and_without_a_terminal_the_command_stops(monkeypatch):
    monkeypatch.delenv("STAFF_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="STAFF_PASSWORD"):
        call_command("create_staff", "--username", "x", "--role", "admin")
    assert not User.objects.exists()


def test_a_totp_secret_registers_a_confirmed_device_once(password):
    call_command("create_staff", "--username", "min", "--role", "admin", "--totp-secret", SECRET)
    user = User.objects.get(username="min")
    device = twofactor.confirmed_device(user)
    assert device is not None
    assert twofactor.secret_base32(device) == SECRET
    assert twofactor.check_code(device, code_of(SECRET))
    assert not twofactor.check_code(device, code_of(SECRET))  # a code is good once

    # Again with the same secret: the same device, which still refuses the used code.
    call_command("create_staff", "--username", "min", "--role", "admin", "--totp-secret", SECRET)
    assert list(TOTPDevice.objects.values_list("pk", flat=True)) == [device.pk]
    # A new secret replaces the device (a lost phone).
    other = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
    call_command("create_staff", "--username", "min", "--role", "admin", "--totp-secret", other)
    assert TOTPDevice.objects.count() == 1
    assert twofactor.secret_base32(twofactor.confirmed_device(user)) == other


@pytest.mark.parametrize("secret", ["not base32!", "JBSWY3DP", "A" * 80])
def test_a_bad_totp_secret_is_refused_before_anything_is_written(password, secret):
    with pytest.raises(CommandError, match="TOTP"):
        call_command(
            "create_staff", "--username", "min", "--role", "admin", "--totp-secret", secret
        )
    assert not User.objects.exists()
    assert not TOTPDevice.objects.exists()


def _run_at_a_terminal(typed: list[str]) -> tuple[int, str]:
    """create_staff in another process whose standard input is a terminal (a pty), typing
    each line of `typed` when asked for a password."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "SECRET_KEY": "test-only",
    }
    env.pop("STAFF_PASSWORD", None)
    command = [sys.executable, "manage.py", "create_staff", "--username", "awa", "--role", "admin"]
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command, stdin=follower, stdout=follower, stderr=follower, env=env, cwd=settings.BASE_DIR
    )
    os.close(follower)
    output, answered, deadline = b"", 0, time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the terminal closed: the process is done
                    break
                output += chunk
                # Answer each prompt once, when it is the last thing printed (getpass has
                # turned the echo off by then, and flushes what was typed before).
                if typed and output.endswith(b": ") and output.count(b"Password") > answered:
                    answered += 1
                    os.write(leader, typed.pop(0).encode() + b"\n")
            elif process.poll() is not None:
                break
        return process.wait(30), output.decode(errors="replace")
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()


@pytest.mark.django_db(transaction=True)
def test_at_a_terminal_the_password_is_asked_twice(settings):
    status, output = _run_at_a_terminal(["s3cret-Pass", "s3cret-Pass"])
    assert status == 0, output
    assert "Password (again)" in output
    assert "s3cret-Pass" not in output  # not echoed
    # The other process hashed it with Django's default hasher, not the tests' quick one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    assert User.objects.get(username="awa").check_password("s3cret-Pass")


@pytest.mark.django_db(transaction=True)
def test_at_a_terminal_two_different_passwords_are_refused():
    status, output = _run_at_a_terminal(["s3cret-Pass", "s3cret-Past"])
    assert status != 0
    assert "differ" in output
    assert not User.objects.filter(username="awa").exists()
