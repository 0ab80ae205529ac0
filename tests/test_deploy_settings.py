"""Production defaults, read by a fresh process from a clean environment, as a
deployment starts: `check --deploy` silent with only the required variables, HTTPS, HSTS
and persistent connections by default, and no start with a console delivery backend."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

KEY = "x7Qp2-deployment-test-key-Lm9Rt4Vb8Nc1Zs6Hd3Wf0Jk5Yg7Ea2Uo9Ti4Pq"
REQUIRED = {"DEBUG": "false", "SECRET_KEY": KEY, "ALLOWED_HOSTS": "premium.example.ml"}
REAL_DELIVERY = {
    "EMAIL_URL": "smtp+tls://portal:secret@mail.example.ml:587",
    "SMS_BACKEND": "appointments.sms.FileBackend",
}


def run(args: list[str], **variables: str) -> subprocess.CompletedProcess:
    """`python args` in the repository with only PATH besides `variables`: no
    DATABASE_URL, no REDIS_URL, nothing inherited from the test run."""
    env = {"PATH": os.environ["PATH"], **variables}
    return subprocess.run(
        [sys.executable, *args],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_silent_with_only_the_required_variables():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **REQUIRED,
        ALLOW_CONSOLE_DELIVERY="true",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert result.stderr == ""


def test_check_deploy_is_silent_with_real_delivery_backends():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **REQUIRED, **REAL_DELIVERY
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""


SHOW = (
    "import json, epassport.settings as s; db = s.DATABASES['default']; print(json.dumps(["
    "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
    " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, db['CONN_MAX_AGE'],"
    " db['CONN_HEALTH_CHECKS'], s.TRUSTED_PROXY_COUNT]))"
)


def settings_of(**variables: str) -> list:
    result = run(["-c", SHOW], **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults():
    # HTTPS redirect, a year of HSTS, secure cookies, connections kept 60 s with a health
    # check, REMOTE_ADDR as the client.
    assert settings_of(**REQUIRED, **REAL_DELIVERY) == [
        True,
        31_536_000,
        True,
        True,
        True,
        60,
        True,
        0,
    ]


def test_the_defaults_are_overridable():
    assert settings_of(
        **REQUIRED,
        **REAL_DELIVERY,
        SECURE_SSL_REDIRECT="false",
        CONN_MAX_AGE="0",
        CONN_HEALTH_CHECKS="false",
        TRUSTED_PROXY_COUNT="2",
    ) == [False, 31_536_000, True, True, True, 0, False, 2]


def test_debug_has_no_https_redirect_nor_hsts():
    values = settings_of(DEBUG="true")
    assert values[:2] == [False, 0]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({}, "EMAIL_URL"),  # consolemail:// is the default
        ({"EMAIL_URL": REAL_DELIVERY["EMAIL_URL"]}, "SMS_BACKEND"),
        ({"SMS_BACKEND": REAL_DELIVERY["SMS_BACKEND"]}, "EMAIL_URL"),
        (
            {"EMAIL_URL": "consolemail://", "SMS_BACKEND": REAL_DELIVERY["SMS_BACKEND"]},
            "EMAIL_URL",
        ),
    ],
)
def test_with_debug_off_a_console_backend_refuses_to_start(variables, named):
    result = run(["manage.py", "check"], **REQUIRED, **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr
    assert "ALLOW_CONSOLE_DELIVERY=true" in result.stderr


def test_the_web_server_and_the_worker_refuse_too():
    """gunicorn and Celery run no system check: the refusal is at settings load."""
    wsgi = run(["-c", "import epassport.wsgi"], **REQUIRED)
    assert wsgi.returncode != 0
    assert "ALLOW_CONSOLE_DELIVERY" in wsgi.stderr
    celery = run(
        ["-c", "from epassport.celery import app; print(app.conf.broker_url)"], **REQUIRED
    )
    assert celery.returncode != 0
    assert "ALLOW_CONSOLE_DELIVERY" in celery.stderr


def test_console_delivery_starts_when_allowed_or_with_debug():
    allowed = run(["manage.py", "check"], **REQUIRED, ALLOW_CONSOLE_DELIVERY="true")
    assert allowed.returncode == 0, allowed.stderr
    debug = run(["manage.py", "check"], DEBUG="true")
    assert debug.returncode == 0, debug.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"BEHIND_TLS_PROXY": "true"}, "TRUSTED_PROXY_COUNT"),
        ({"TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, "TRUSTED_PROXIES"),
        ({"STAFF_NETWORKS": "any"}, "STAFF_NETWORKS"),
    ],
)
def test_proxy_and_network_settings_that_would_mislead_refuse_to_start(variables, named):
    result = run(["manage.py", "check"], **REQUIRED, **REAL_DELIVERY, **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_behind_the_tls_proxy_with_its_hop_trusted_starts():
    result = run(
        ["manage.py", "check"],
        **REQUIRED,
        **REAL_DELIVERY,
        BEHIND_TLS_PROXY="true",
        TRUSTED_PROXY_COUNT="1",
        TRUSTED_PROXIES="10.0.0.2,127.0.0.1",
    )
    assert result.returncode == 0, result.stderr


# The behaviour those settings give ------------------------------------------------------------


@pytest.mark.django_db
def test_the_https_redirect_and_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/statut/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/statut/"
    secure = client.get("/statut/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    # The load balancer's probe over plain HTTP is answered, not redirected.
    assert client.get("/healthz").status_code != 301
