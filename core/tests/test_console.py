"""The console backends print one line per message: the recipient masked, the kind, the code
where there is one, the subject; never a whole email with its attachments in base64."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from appointments.tests.factories import book
from appointments.tests.verification import sent_code
from core import sms
from core.console import mask_email, mask_phone
from core.outbox import delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(settings):
    settings.EMAIL_BACKEND = "core.console.EmailBackend"
    settings.SMS_BACKEND = "core.sms.ConsoleBackend"


def test_recipients_are_masked():
    assert mask_email("aminata.traore@example.org") == "a***@example.org"
    assert mask_email("nobody") == "***"
    assert mask_phone("+22370561234") == "+223 ** ** 12 34"
    assert mask_phone("+33612345678") == "+33 * ** ** 56 78"
    assert mask_phone("+12025550123") == "+1 ***-***-0123"


def test_a_code_is_one_line_per_channel_with_the_code(console, settings, capsys):
    settings.BOOKING_VERIFY_CONTACT = True
    appointment, _token = book(email="aminata.traore@example.org", phone="+22370561234")
    code = sent_code(appointment)
    capsys.readouterr()

    assert delivery.outbox_sweep() == 2

    lines = sorted(capsys.readouterr().out.splitlines())
    assert lines == [
        f"SMS to +223 ** ** 12 34 · booking_code · code {code}",
        f"email to a***@example.org · booking_code · code {code} · “Passeport Premium : "
        f"votre code {code} pour le rendez-vous {appointment.reference}”",
    ]


def test_a_confirmation_names_its_attachments_without_printing_them(console, capsys):
    appointment, _token = book(email="aminata.traore@example.org", phone="+22370561234")
    capsys.readouterr()

    assert delivery.outbox_sweep() == 2

    out = capsys.readouterr().out
    (email,) = (line for line in out.splitlines() if line.startswith("email"))
    assert email.startswith(
        f"email to a***@example.org · booking_confirmed · “Passeport Premium : rendez-vous "
        f"{appointment.reference} confirmé” · 2 attachment(s): "
    )
    assert ".ics" in email
    assert ".pdf" in email
    assert email.endswith(" KB)")
    assert len(out.splitlines()) == 2  # one line each, the SMS's included
    assert "base64" not in out
    assert "Content-Type" not in out
    assert "aminata" not in out
    assert "70561234" not in out


def test_an_sms_sent_outside_the_outbox_shows_its_beginning(capsys):
    sms.ConsoleBackend().send("+22376123456", "Bonjour " * 20)
    out = capsys.readouterr().out
    assert out.startswith("SMS to +223 ** ** 34 56 · Bonjour Bonjour")
    assert out.endswith("…\n")
    assert out.count("\n") == 1


def _email_backend(**variables: str) -> str:
    """settings.EMAIL_BACKEND as a fresh process reads it from these variables."""
    result = subprocess.run(
        [sys.executable, "-c", "import epassport.settings as s; print(s.EMAIL_BACKEND)"],
        cwd=django_settings.BASE_DIR,
        env={"PATH": os.environ["PATH"], "DEBUG": "true", **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_consolemail_names_the_one_line_backend():
    assert _email_backend() == "core.console.EmailBackend"
    assert _email_backend(EMAIL_URL="consolemail://") == "core.console.EmailBackend"
    assert _email_backend(EMAIL_URL="smtp://mail.example.ml:25") == (
        "django.core.mail.backends.smtp.EmailBackend"
    )
