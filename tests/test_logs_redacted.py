"""No log line holds an email address, a phone number or a token.

Every log record of the process is captured at DEBUG, SQL included, through a booking, the
sending of its messages, messages refused until abandoned (by a mail server and an SMS
provider whose errors name the applicant), manage links answering 404 and a manage page
failing with a database error that quotes the applicant's row; and gunicorn's access log of
the manage link, with gunicorn's default format and with the one the README gives.
"""

import http.client
import io
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.tests.api_bookings import book
from appointments.tests.factories import CentreOfficeFactory, SlotFactory
from appointments.tests.smtp_server import free_port, smtp_server, use_smtp
from core import sms
from core.logs import redact
from core.models import OutboxMessage
from core.outbox import delivery
from tests.servers import collect_static
from tests.support import database_url

ROOT = Path(__file__).resolve().parent.parent
# What the README tells gunicorn to log (Running in production).
README_ACCESS_FORMAT = re.search(
    r"--access-logformat '([^']+)'", (ROOT / "README.md").read_text()
).group(1)

FIRST = {"email": "Aminata.Traore@Example.org", "phone": "+223 76 12 34 56"}
SECOND = {"email": "moussa.keita@orange.ml", "phone": "+33 6 12 34 56 78"}
SECRETS_OF_FIRST = ("aminata.traore@example.org", "+22376123456", "22376123456")
SECRETS_OF_SECOND = ("moussa.keita@orange.ml", "+33612345678", "33612345678")


class RefusingProvider(sms.BaseSmsBackend):
    """An SMS provider whose error quotes the number and the text (with its manage link)."""

    def send(self, to: str, text: str) -> None:
        raise RuntimeError(f"provider refused {to}: {text}")


class RefusingMailServer:
    """A mail server refusing every recipient, naming the address in its answer."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected"


@contextmanager
def refusing_mail_server(settings) -> Iterator[None]:
    port = free_port()
    controller = Controller(RefusingMailServer(), hostname="127.0.0.1", port=port)
    controller.start()
    use_smtp(settings, port)
    try:
        yield
    finally:
        controller.stop()


@contextmanager
def every_log_record() -> Iterator[io.StringIO]:
    """All the log output of this process, every logger at DEBUG, SQL statements included."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    loggers = [logging.getLogger(name) for name in ("", "django.request", "django.db.backends")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    connection.force_debug_cursor = True
    try:
        yield stream
    finally:
        connection.force_debug_cursor = False
        logging.getLogger().removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def sweep_until_abandoned() -> None:
    for _attempt in range(delivery.MAX_ATTEMPTS):
        OutboxMessage.objects.filter(status="pending").update(next_attempt_at=timezone.now())
        delivery.outbox_sweep()


@pytest.mark.django_db
def test_no_log_line_holds_an_email_a_phone_or_a_token(settings):
    settings.BOOKING_CHALLENGE = False
    settings.RATE_LIMITS = False
    settings.SMS_BACKEND = "appointments.tests.sms_backends.RecordingBackend"
    office = CentreOfficeFactory()
    slot = SlotFactory(office=office, starts_at=timezone.now() + timedelta(days=2))
    api = APIClient()
    client = Client(raise_request_exception=False)

    with every_log_record() as logs:
        # A booking, and its messages sent.
        response = book(api, slot, **FIRST)
        assert response.status_code == 201, response.content
        reference, token = response.json()["reference"], response.json()["manage_token"]
        with smtp_server(settings) as inbox:
            assert delivery.outbox_sweep() == 2
        assert len(inbox.envelopes) == 1
        # A booking whose messages are refused until abandoned.
        second = book(api, slot, **SECOND).json()
        with refusing_mail_server(settings):
            settings.SMS_BACKEND = f"{__name__}.RefusingProvider"
            sweep_until_abandoned()
        assert OutboxMessage.objects.filter(status="failed").count() == 2
        # Manage links answering 404: a wrong reference, a wrong token, in English.
        for path in (
            f"/rendez-vous/AAAA-AAAA/{token}/",
            f"/rendez-vous/{reference}/{token}x/",
            f"/en/rendez-vous/{second['reference']}/{second['manage_token']}0/",
        ):
            assert client.get(path).status_code == 404
        # A manage page failing (500) on a database error that quotes the applicant's row.
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE appointments_appointment"
                " ADD CONSTRAINT test_fault CHECK (notify_sms) NOT VALID"
            )
        path = f"/rendez-vous/{reference}/{token}/messages/"
        assert client.post(path, {"notify_email": "on"}).status_code == 500
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE appointments_appointment DROP CONSTRAINT test_fault")

    text = logs.getvalue()
    # What was logged is there, cleaned.
    assert f"Not Found: /rendez-vous/{reference}/[token]/" in text
    assert f"Internal Server Error: /rendez-vous/{reference}/[token]/messages/" in text
    assert "Failing row contains" in text
    assert "abandoned after 10 attempts" in text
    assert "[email]" in text
    assert "[phone]" in text
    # And nothing of the applicants'.
    secrets = (*SECRETS_OF_FIRST, *SECRETS_OF_SECOND, token, second["manage_token"])
    leaked = [secret for secret in secrets if secret.lower() in text.lower()]
    assert not leaked, leaked


def test_the_rules_mask_what_they_must_and_nothing_else():
    token = "Zq3-_x9fKLmN0pQrStUvWxYz12345678"
    assert redact(f'"GET /en/rendez-vous/ACDE-FGHJ/{token}/annuler/ HTTP/1.1" 200') == (
        '"GET /en/rendez-vous/ACDE-FGHJ/[token]/annuler/ HTTP/1.1" 200'
    )
    assert redact(f"{{'manage_token': '{token}'}} X-Booking-Token: {token}") == (
        "{'manage_token': '[token]'} X-Booking-Token: [token]"
    )
    assert redact("GET /suivi/?reference=DACDEF-GHJKM&birth_date=1990-01-01") == (
        "GET /suivi/?reference=DACDEF-GHJKM&birth_date=[date]"
    )
    assert redact("birth_date_day=17&birth_date_month=5&birth_date_year=1990") == (
        "birth_date_day=[date]&birth_date_month=[date]&birth_date_year=[date]"
    )
    assert redact("to a.b+c@mail.example.ml or +22376123456.") == "to [email] or [phone]."
    unchanged = "outbox message 12 (booking_confirmed, sms) at 2025-11-24T07:30:00+00:00 in 15ms"
    assert redact(unchanged) == unchanged


@pytest.mark.django_db
@pytest.mark.parametrize("access_format", [None, README_ACCESS_FORMAT], ids=["default", "readme"])
def test_gunicorn_access_log_holds_no_token(access_format, tmp_path):
    token = "Zq3-_x9fKLmN0pQrStUvWxYz12345678"
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "false",
        "SECRET_KEY": "test-only-secret-key-of-the-gunicorn-log-test",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOW_CONSOLE_DELIVERY": "true",
        # The manifest a deployment collects (without it gunicorn refuses to start).
        "STATIC_ROOT": str(collect_static(tmp_path / "static")),
    }
    format_option = ["--access-logformat", access_format] if access_format else []
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "epassport.wsgi",
        *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-"),
        *format_option,
    ]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        path = f"/rendez-vous/ACDE-FGHJ/{token}/"
        referer = f"http://127.0.0.1:{port}/en/rendez-vous/ACDE-FGHJ/{token}/"
        deadline = time.monotonic() + 60
        while True:
            try:
                # Any answer (404, a redirect: none is followed) means served, and logged.
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path, headers={"Referer": referer})
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        deadline = time.monotonic() + 10
        while "ACDE-FGHJ" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=15)
    text = log.read_text()
    assert "/rendez-vous/ACDE-FGHJ/[token]/" in text, text
    assert token not in text, text
