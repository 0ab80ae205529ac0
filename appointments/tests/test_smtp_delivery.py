"""Confirmation emails through a real SMTP server on localhost (aiosmtpd, the `inbox`
fixture), and the retries with backoff when the mail server refuses or is down."""

from datetime import datetime, timedelta
from email.message import EmailMessage

import icalendar
import pytest
from django.conf import settings

from appointments.models import Appointment
from appointments.tests.factories import REOPENING_MORNING, bamako_centre, book_at_reopening
from appointments.tests.smtp_server import free_port, use_smtp
from core.models import OutboxMessage
from core.outbox import delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_down(settings):
    use_smtp(settings, free_port())  # nothing listens there: connection refused


def book(**who) -> tuple[Appointment, str]:
    return book_at_reopening(bamako_centre(), **who)


def confirmation_email(appointment: Appointment) -> OutboxMessage:
    return OutboxMessage.objects.get(
        appointment_id=appointment.pk, kind="booking_confirmed", channel="email"
    )


def attachments(message: EmailMessage) -> dict[str, bytes | str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_attachments()}


def test_a_french_confirmation_arrives_with_calendar_file_pdf_and_manage_link(inbox):
    appointment, token = book()

    assert delivery.outbox_deliver(message_id=confirmation_email(appointment).pk) is True

    assert len(inbox.envelopes) == 1
    assert inbox.envelopes[0].rcpt_tos == ["aminata.traore@example.org"]
    message = inbox.messages()[0]
    assert message["To"] == "aminata.traore@example.org"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert (
        message["Subject"] == f"Passeport Premium : rendez-vous {appointment.reference} confirmé"
    )
    assert message["Content-Language"] == "fr"

    text = message.get_body(("plain",)).get_content()
    assert "Bonjour Aminata TRAORÉ," in text
    assert "Votre rendez-vous pour le passeport Premium est confirmé." in text
    assert f"Référence : {appointment.reference}" in text
    assert "lundi 24 novembre 2025 à 08:30 (Africa/Bamako, UTC)" in text
    assert "Centre de production de Bamako" in text
    assert "Avenue de l’Indépendance" in text
    assert "À apporter :" in text
    assert "acte de naissance" in text
    assert "joints à ce message" in text
    link = next(word for word in text.split() if "/rendez-vous/" in word)
    assert link.startswith(settings.PORTAL_URL + "/rendez-vous/")
    assert appointment.reference in link
    assert token in link
    html = message.get_body(("html",)).get_content()
    assert '<html lang="fr">' in html
    assert f'href="{link}"' in html

    files = attachments(message)
    assert set(files) == {"text/calendar", "application/pdf"}
    calendar = icalendar.Calendar.from_ical(files["text/calendar"])
    event = calendar.walk("VEVENT")[0]
    assert str(event["uid"]) == f"{appointment.reference}@premium-passport"
    assert event.decoded("dtstart") == REOPENING_MORNING
    assert files["application/pdf"].startswith(b"%PDF")


def test_an_english_confirmation_is_in_english(inbox):
    appointment, token = book(language="en")

    assert delivery.outbox_deliver(message_id=confirmation_email(appointment).pk) is True

    message = inbox.messages()[0]
    assert message["Content-Language"] == "en"
    assert appointment.reference in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "Monday 24 November 2025" in text
    assert "08:30 (Africa/Bamako, UTC)" in text
    assert "Bamako production centre" in text
    assert "lundi" not in text
    assert "novembre" not in text
    link = next(word for word in text.split() if "/rendez-vous/" in word)
    assert link.startswith(settings.PORTAL_URL + "/en/")
    assert appointment.reference in link
    assert token in link
    assert '<html lang="en">' in message.get_body(("html",)).get_content()
    assert set(attachments(message)) == {"text/calendar", "application/pdf"}


def test_a_name_with_an_apostrophe_is_not_html_escaped_in_the_text_part(inbox):
    appointment, _token = book(surname="N'DIAYE")

    delivery.outbox_deliver(message_id=confirmation_email(appointment).pk)

    message = inbox.messages()[0]
    assert "Bonjour Aminata N'DIAYE," in message.get_body(("plain",)).get_content()
    assert "N&#x27;DIAYE" in message.get_body(("html",)).get_content()


def test_a_mail_server_down_means_a_retry_with_backoff_then_giving_up(smtp_down, freeze):
    freeze("2025-11-20T10:00:00Z")
    appointment, token = book()
    message = confirmation_email(appointment)
    sms = OutboxMessage.objects.get(appointment_id=appointment.pk, channel="sms")
    assert delivery.outbox_deliver(message_id=sms.pk) is True  # the SMS does not need SMTP

    assert delivery.outbox_deliver(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1
    assert "Connection refused" in message.last_error or "ConnectionRefused" in message.last_error
    assert message.next_attempt_at == datetime.fromisoformat("2025-11-20T10:01:00Z")
    assert message.payload == {"manage_token": token}
    assert message.sent_at is None
    # Not due yet: neither the task arriving again nor a sweep tries it.
    assert delivery.outbox_deliver(message_id=message.pk) is False
    assert delivery.outbox_sweep() == 0
    message.refresh_from_db()
    assert message.attempts == 1

    waits = [message.next_attempt_at - datetime.fromisoformat("2025-11-20T10:00:00Z")]
    while message.status == OutboxMessage.Status.PENDING:
        freeze(message.next_attempt_at)
        previous = message.next_attempt_at
        assert delivery.outbox_sweep() == 0
        message.refresh_from_db()
        if message.status == OutboxMessage.Status.PENDING:
            waits.append(message.next_attempt_at - previous)

    assert [wait / timedelta(minutes=1) for wait in waits] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == 10
    assert message.sent_at is None
    freeze(message.next_attempt_at + timedelta(days=1))
    assert delivery.outbox_deliver(message_id=message.pk) is False
    message.refresh_from_db()
    assert message.attempts == 10


def test_the_backoff_is_capped_at_six_hours():
    assert delivery.backoff(1) == timedelta(minutes=1)
    assert delivery.backoff(9) == timedelta(minutes=256)
    assert delivery.backoff(10) == timedelta(hours=6)
    assert delivery.backoff(30) == timedelta(hours=6)


def test_a_temporary_refusal_is_retried_and_then_delivered(inbox, freeze):
    freeze("2025-11-20T10:00:00Z")
    appointment, _token = book()
    message = confirmation_email(appointment)
    inbox.refusing = True

    assert delivery.outbox_deliver(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.attempts == 1
    assert "451" in message.last_error
    assert inbox.envelopes == []

    inbox.refusing = False
    freeze("2025-11-20T10:01:00Z")
    assert delivery.outbox_sweep() == 2  # the email and the SMS

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.sent_at == datetime.fromisoformat("2025-11-20T10:01:00Z")
    assert message.payload == {}
    assert len(inbox.envelopes) == 1
    assert appointment.reference in inbox.messages()[0]["Subject"]
