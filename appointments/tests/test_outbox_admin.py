"""Messages abandoned after their last attempt are listed in the admin with their error, and
an administrator sends them again from there (the action `retry`)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from appointments.tests.factories import UserFactory, book, member
from core.models import OutboxMessage
from core.outbox import delivery
from tests.support import log_in

pytestmark = pytest.mark.django_db

URL = "/admin/core/outboxmessage/"


@pytest.fixture
def abandoned():
    """A booking whose email the mail server refused until the last attempt."""
    appointment, _token = book()
    email = OutboxMessage.objects.get(appointment_id=appointment.pk, channel="email")
    OutboxMessage.objects.filter(pk=email.pk).update(
        status=OutboxMessage.Status.FAILED,
        attempts=delivery.MAX_ATTEMPTS,
        last_error="SMTPRecipientsRefused({'aminata.traore@example.org': (450, b'Mailbox busy')})",
        next_attempt_at=timezone.now() + timedelta(hours=6),
    )
    sms = OutboxMessage.objects.get(appointment_id=appointment.pk, channel="sms")
    delivery.outbox_deliver(message_id=sms.pk)  # sent
    return appointment, email, sms


@pytest.fixture
def minister(client):
    user = member("admin", username="minister", is_staff=True, is_superuser=True)
    log_in(client, user)
    return user


def test_failed_messages_are_listed_with_their_error_and_attempts(client, minister, abandoned):
    appointment, email, sms = abandoned

    html = client.get(URL, {"status__exact": "failed"}).content.decode()

    assert f"{URL}{email.pk}/change/" in html
    assert f"{URL}{sms.pk}/change/" not in html
    assert "SMTPRecipientsRefused" in html
    assert f'<td class="field-attempts">{delivery.MAX_ATTEMPTS}</td>' in html
    assert 'value="retry"' in html
    detail = client.get(f"{URL}{email.pk}/change/").content.decode()
    assert "Mailbox busy" in detail
    assert f"appointment:{appointment.pk}:confirmed" in detail  # its idempotency key


def test_the_retry_action_sends_a_failed_message_again_once(client, minister, abandoned, inbox):
    appointment, email, sms = abandoned

    response = client.post(
        URL, {"action": "retry", "_selected_action": [email.pk, sms.pk]}, follow=True
    )

    assert "1 message abandonné sera renvoyé." in response.content.decode()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 0)
    assert email.next_attempt_at <= timezone.now()
    sms.refresh_from_db()
    assert sms.status == "sent"  # a sent message is left as it is
    assert delivery.outbox_sweep() == 1
    assert delivery.outbox_sweep() == 0
    assert inbox.subjects() == [
        f"Passeport Premium : rendez-vous {appointment.reference} confirmé"
    ]
    email.refresh_from_db()
    assert email.status == "sent"


def test_staff_who_may_only_read_the_messages_cannot_retry_them(client, abandoned):
    _appointment, email, _sms = abandoned
    reader = UserFactory(username="reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    log_in(client, reader)

    assert 'value="retry"' not in client.get(URL).content.decode()
    client.post(URL, {"action": "retry", "_selected_action": [email.pk]})

    email.refresh_from_db()
    assert email.status == "failed"


def test_retry_changes_only_failed_messages():
    appointment, _token = book()
    ids = list(
        OutboxMessage.objects.filter(appointment_id=appointment.pk).values_list("pk", flat=True)
    )
    assert delivery.outbox_retry(message_ids=ids) == 0
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"pending"}
