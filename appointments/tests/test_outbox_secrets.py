"""A message abandoned after its last try loses its manage token:
the database keeps the token's hash alone, as it does once a message is sent; and no error
recorded for a message keeps the token or the applicant's address."""

import pytest
from django.utils import timezone

from appointments import services
from appointments.tests.factories import book_at_reopening, someone
from core import sms
from core.models import OutboxMessage
from core.outbox import delivery

pytestmark = pytest.mark.django_db


class QuotingProvider(sms.BaseSmsBackend):
    """A provider whose error quotes the number and the text, manage link included."""

    def send(self, to: str, text: str) -> None:
        raise RuntimeError(f"provider refused {to}: {text}")


def sweep_until_abandoned() -> None:
    for _attempt in range(delivery.MAX_ATTEMPTS):
        OutboxMessage.objects.filter(status="pending").update(next_attempt_at=timezone.now())
        delivery.outbox_sweep()


def test_a_confirmation_abandoned_after_its_last_try_loses_its_token(sms_gateway_down, inbox):
    inbox.refusing = True  # 451 to every message
    appointment, token = book_at_reopening()
    messages = OutboxMessage.objects.filter(appointment_id=appointment.pk).order_by("channel")
    assert [m.payload for m in messages.all()] == [{"manage_token": token}] * 2

    for attempt in range(1, delivery.MAX_ATTEMPTS):
        OutboxMessage.objects.update(next_attempt_at=timezone.now())
        delivery.outbox_sweep()
        # Still to be tried: it keeps what it must carry.
        assert {(m.status, m.attempts) for m in messages.all()} == {("pending", attempt)}
        assert all(m.payload == {"manage_token": token} for m in messages.all())

    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    delivery.outbox_sweep()

    assert {(m.status, m.attempts) for m in messages.all()} == {("failed", delivery.MAX_ATTEMPTS)}
    assert all(m.payload == {} for m in messages.all())
    assert not OutboxMessage.objects.filter(payload__has_key="manage_token")
    # Sent again from the admin, it goes without its link: the link stays secret.
    inbox.refusing = False
    email = messages.get(channel="email")
    assert delivery.outbox_retry(message_ids=[email.pk]) == 1
    assert delivery.outbox_deliver(message_id=email.pk) is True
    body = inbox.messages()[0].get_body(("plain",)).get_content()
    assert appointment.reference in body
    assert token not in body


def test_an_abandoned_message_keeps_what_is_not_secret(sms_gateway_down, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    appointment, token = book_at_reopening()
    sms = OutboxMessage.objects.get(appointment_id=appointment.pk, channel="sms")
    sms.payload = {"manage_token": token, "file_reference": "DOS-0000001"}
    sms.save(update_fields=["payload"])

    sweep_until_abandoned()

    sms.refresh_from_db()
    assert sms.status == "failed"
    assert sms.payload == {"file_reference": "DOS-0000001"}


def test_the_error_recorded_for_a_message_keeps_neither_its_token_nor_the_address(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = f"{__name__}.QuotingProvider"
    appointment, token = book_at_reopening()
    sms_message = OutboxMessage.objects.get(appointment_id=appointment.pk, channel="sms")

    assert delivery.outbox_deliver(message_id=sms_message.pk) is False

    sms_message.refresh_from_db()
    assert sms_message.attempts == 1
    assert f"/rendez-vous/{appointment.reference}/[token]/" in sms_message.last_error
    assert token not in sms_message.last_error
    assert appointment.phone not in sms_message.last_error


def test_a_code_abandoned_after_its_last_try_leaves_the_database(
    sms_gateway_down, inbox, verify_on, slot
):
    """The verification code is a secret too: the database keeps only its keyed hash on
    the appointment; the outbox drops it on every end of its message."""
    inbox.refusing = True
    hold, _token = services.booking_create(slot=slot, applicant=someone())
    messages = OutboxMessage.objects.filter(appointment_id=hold.pk, kind="booking_code")
    assert messages.count() == 2
    code = messages.first().payload["code"]
    sweep_until_abandoned()
    assert {m.status for m in messages.all()} == {"failed"}
    assert not OutboxMessage.objects.filter(payload__has_key="code").exists()
    assert all(code not in str(m.payload) for m in OutboxMessage.objects.all())
