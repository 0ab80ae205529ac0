"""The Django admin answers at ADMIN_URL, and only there; bad values of the staff login
settings stop the start."""

import importlib
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.urls import clear_url_caches, reverse

import epassport.urls

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_at(settings):
    """Move the admin to another path (the URLconf is read again), and back afterwards."""
    original = django_settings.ADMIN_URL

    def move(path: str) -> None:
        settings.ADMIN_URL = path
        clear_url_caches()
        importlib.reload(epassport.urls)

    yield move
    move(original)


def test_the_admin_is_at_admin_url_only(client, admin_at):
    admin_at("gestion-7f3k/")
    assert reverse("admin:index") == "/gestion-7f3k/"
    assert client.get("/gestion-7f3k/login/").status_code == 200
    assert client.get("/en/gestion-7f3k/login/").status_code == 200
    assert client.get("/admin/login/").status_code == 404


def test_by_default_the_admin_is_at_admin(client):
    assert reverse("admin:index") == "/admin/"
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ADMIN_URL", "/admin"),
        ("ADMIN_URL", "admin"),
        ("STAFF_SESSION_IDLE_MINUTES", "0"),
        ("API_TOKEN_TTL_HOURS", "0"),
        ("LOGIN_FAILURE_LIMIT", "0"),
    ],
)
def test_bad_values_stop_the_start(variable, value):
    env = {**os.environ, "SECRET_KEY": "test-only", variable: value}
    process = subprocess.run(
        [sys.executable, "-c", "import epassport.settings"],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode != 0
    assert "ImproperlyConfigured" in process.stderr
