"""A file's status change reaches its applicant as exactly one email, through a real SMTP
server on localhost (aiosmtpd, the `inbox` fixture): also when two sweeps run at once, and
when the mail server refuses it twice before taking it."""

import threading
from datetime import datetime, timedelta

import pytest

from appointments.tests.factories import member
from appointments.tests.sms_backends import MeetingBackend, RecordingBackend
from core.models import OutboxMessage
from core.outbox import delivery
from production import services
from production.models import FileStatus
from production.tests.factories import applicant_file
from tests.support import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms(settings) -> list[tuple[str, str]]:
    settings.SMS_BACKEND = f"{RecordingBackend.__module__}.RecordingBackend"
    RecordingBackend.sent = []
    return RecordingBackend.sent


def make_ready(file) -> None:
    services.file_transition(
        file=file, to=FileStatus.READY, expected=file.status, by=member("admin")
    )


def ready_subject(file) -> str:
    return f"Passeport Premium : votre passeport est disponible (dossier {file.reference})"


def test_a_file_ready_sends_exactly_one_email_and_one_sms(inbox, sms, bamako):
    file = applicant_file(centre=bamako, status=FileStatus.QUALITY_CHECK)
    OutboxMessage.objects.all().delete()  # the booking's confirmation: not this test's

    make_ready(file)
    assert delivery.outbox_sweep() == 2
    assert delivery.outbox_sweep() == 0

    assert len(inbox.envelopes) == 1
    assert inbox.envelopes[0].rcpt_tos == [file.appointment.email]
    message = inbox.messages()[0]
    assert message["Subject"] == ready_subject(file)
    assert message["Content-Language"] == "fr"
    text = message.get_body(("plain",)).get_content()
    assert "Votre passeport Premium est disponible." in text
    assert f"Numéro de dossier : {file.reference}" in text
    assert "http://127.0.0.1:8000/suivi/" in text
    assert [to for to, _text in sms] == [file.appointment.phone]
    assert list(OutboxMessage.objects.values_list("status", "payload")) == [("sent", {})] * 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_two_sweeps_at_once_send_each_file_s_email_exactly_once(inbox, settings, bamako):
    settings.SMS_BACKEND = f"{MeetingBackend.__module__}.MeetingBackend"
    MeetingBackend.barrier, MeetingBackend.met = threading.Barrier(2), threading.local()
    RecordingBackend.sent = []  # which MeetingBackend fills
    files = [applicant_file(centre=bamako, status=FileStatus.QUALITY_CHECK) for _ in range(8)]
    OutboxMessage.objects.all().delete()
    for file in files:
        make_ready(file)

    results = run_together([delivery.outbox_sweep, delivery.outbox_sweep])

    assert all(isinstance(result, int) and result > 0 for result in results), results
    assert sum(results) == 16
    assert sorted(inbox.subjects()) == sorted(ready_subject(file) for file in files)
    assert sorted(to for to, _text in RecordingBackend.sent) == sorted(
        file.appointment.phone for file in files
    )
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 0)}


def test_a_refused_email_is_retried_with_backoff_and_sent_once(inbox, sms, bamako, freeze):
    freeze("2025-11-20T10:00:00Z")
    file = applicant_file(centre=bamako, status=FileStatus.QUALITY_CHECK)
    OutboxMessage.objects.all().delete()
    make_ready(file)
    email = OutboxMessage.objects.get(kind="file_ready", channel="email")
    inbox.refuse_next = 2  # the server answers 451 twice, then 250

    def at(when: str) -> int:
        freeze(when)
        return delivery.outbox_sweep()

    assert at("2025-11-20T10:00:00Z") == 1  # the SMS; the email refused
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 1)
    assert "451" in email.last_error
    assert email.next_attempt_at == datetime.fromisoformat("2025-11-20T10:01:00Z")

    assert at("2025-11-20T10:00:59Z") == 0  # not due yet: not tried
    assert at("2025-11-20T10:01:00Z") == 0  # refused again
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 2)
    assert email.next_attempt_at - datetime.fromisoformat("2025-11-20T10:01:00Z") == timedelta(
        minutes=2
    )

    assert at("2025-11-20T10:02:59Z") == 0
    assert at("2025-11-20T10:03:00Z") == 1  # taken
    assert at("2025-11-20T12:00:00Z") == 0

    email.refresh_from_db()
    assert (email.status, email.attempts, email.payload) == ("sent", 2, {})
    assert email.sent_at == datetime.fromisoformat("2025-11-20T10:03:00Z")
    assert inbox.refused == 2
    assert inbox.subjects() == [ready_subject(file)]
    assert len(sms) == 1
