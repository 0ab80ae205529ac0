"""SMS backends, and the SMS the outbox sends through the backend named in SMS_BACKEND."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings

from appointments.models import Appointment
from appointments.tests.factories import CentreOfficeFactory, book_at_reopening, displace
from appointments.tests.sms_backends import RecordingBackend
from core import sms
from core.models import OutboxMessage
from core.outbox import delivery


def book(**who) -> tuple[Appointment, str]:
    office = CentreOfficeFactory(name="Centre de Bamako", name_en="Bamako centre")
    return book_at_reopening(office, **who)


def sms_of(appointment: Appointment, kind: str) -> OutboxMessage:
    return OutboxMessage.objects.get(appointment_id=appointment.pk, kind=kind, channel="sms")


# Backends --------------------------------------------------------------------------------


def test_the_file_backend_appends_one_line_per_sms_and_creates_its_folder(settings, tmp_path):
    path = tmp_path / "not" / "yet" / "sms.log"
    settings.SMS_FILE_PATH = path

    sms.FileBackend().send("+22376123456", "Rendez-vous PX7K-4MQD\nconfirmé\tà 08:30")
    sms.FileBackend().send("+33612345678", "Second")

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    stamp, to, text = lines[0].split("\t")
    assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0)
    assert to == "+22376123456"
    assert text == "Rendez-vous PX7K-4MQD confirmé à 08:30"
    assert lines[1].split("\t")[1:] == ["+33612345678", "Second"]


def test_the_console_backend_prints_one_line_the_number_masked(capsys):
    sms.ConsoleBackend().send("+22376123456", "Bonjour")

    assert capsys.readouterr().out == "SMS to +223 ** ** 34 56 · Bonjour\n"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("appointments.sms.ConsoleBackend", sms.ConsoleBackend),
        ("appointments.sms.FileBackend", sms.FileBackend),
        ("appointments.tests.sms_backends.RecordingBackend", RecordingBackend),
    ],
)
def test_get_backend_honours_sms_backend(settings, path, expected):
    settings.SMS_BACKEND = path

    assert type(sms.get_backend()) is expected


def test_get_backend_refuses_an_unknown_class(settings):
    settings.SMS_BACKEND = "appointments.sms.NoSuchBackend"

    with pytest.raises(ImportError):
        sms.get_backend()


# What the outbox sends -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_confirmation_sms_goes_through_the_configured_provider(recorded):
    appointment, token = book()
    message = sms_of(appointment, "booking_confirmed")

    assert delivery.outbox_deliver(message_id=message.pk) is True

    assert len(recorded) == 1
    to, text = recorded[0]
    assert to == "+22376123456"
    assert appointment.reference in text
    assert "confirmé" in text
    assert "lundi 24 novembre 2025 à 08:30 (Africa/Bamako, UTC)" in text
    assert "Centre de Bamako" in text
    assert f"{settings.PORTAL_URL}/rendez-vous/" in text
    assert token in text
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.payload == {}


@pytest.mark.django_db
def test_an_english_applicant_gets_an_english_sms(recorded):
    appointment, token = book(language="en")

    delivery.outbox_deliver(message_id=sms_of(appointment, "booking_confirmed").pk)

    text = recorded[0][1]
    assert "Monday 24 November 2025" in text
    assert "Bamako centre" in text
    assert f"{settings.PORTAL_URL}/en/" in text
    assert token in text
    assert "lundi" not in text


@pytest.mark.django_db
def test_a_displaced_applicant_is_sent_to_the_portal_to_choose_a_new_time(recorded):
    appointment, _token = book()
    displace(appointment)

    assert delivery.outbox_deliver(message_id=sms_of(appointment, "booking_displaced").pk)

    text = recorded[0][1]
    assert appointment.reference in text
    assert "fermeture du bureau" in text
    assert "lundi 24 novembre 2025 à 08:30" in text
    assert text.endswith(f"{settings.PORTAL_URL}/")


@pytest.mark.django_db
@pytest.mark.usefixtures("sms_gateway_down")
def test_a_provider_failure_leaves_the_sms_pending_for_a_retry(freeze):
    freeze("2025-11-20T10:00:00Z")
    appointment, token = book()
    message = sms_of(appointment, "booking_confirmed")

    assert delivery.outbox_deliver(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1
    assert "SMS gateway unreachable" in message.last_error
    assert message.next_attempt_at == datetime.fromisoformat("2025-11-20T10:01:00Z")
    assert message.payload == {"manage_token": token}
