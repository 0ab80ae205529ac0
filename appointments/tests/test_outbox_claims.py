"""The outbox's claims: no row lock and no transaction is held while a message is
on its way to the mail server or the SMS provider, nobody else takes a claimed message, and
the claim of a sender that died lapses: the message is then sent, once, by the next sweep."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction

from appointments import services
from appointments.models import Appointment
from appointments.tests.factories import SlotFactory, applicant, book_at_reopening
from appointments.tests.sms_backends import RecordingBackend
from appointments.tests.smtp_server import Inbox, smtp_server
from core import sms
from core.models import OutboxMessage
from core.outbox import delivery


def probe() -> dict:
    """What another worker sees, from its own connection, at this instant."""
    seen = {}

    def look() -> None:
        try:
            try:
                with transaction.atomic():
                    # Every row of the outbox, without waiting: fails if any row is locked.
                    list(OutboxMessage.objects.select_for_update(nowait=True).values("pk"))
                seen["rows_free"] = True
            except DatabaseError:
                seen["rows_free"] = False
            claimed = list(
                OutboxMessage.objects.filter(claimed_until__isnull=False).values_list(
                    "pk", flat=True
                )
            )
            seen["claimed"] = claimed
            seen["taken_by_another"] = [delivery.outbox_deliver(message_id=pk) for pk in claimed]
        finally:
            connection.close()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join(30)
    return seen


class ProbingBackend(sms.BaseSmsBackend):
    seen: list[dict] = []

    def send(self, to: str, text: str) -> None:
        ProbingBackend.seen.append({"sender_in_transaction": connection.in_atomic_block})
        ProbingBackend.seen[-1].update(probe())


class ProbingInbox(Inbox):
    """A mail server that looks at the database while it receives a message (the sending
    worker waits for its answer meanwhile)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict] = []

    async def handle_DATA(self, server, session, envelope):
        self.seen.append(probe())  # in a thread of its own: no ORM call in the event loop
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_no_lock_is_held_while_a_message_is_sent_and_nobody_else_takes_it(settings):
    settings.SMS_BACKEND = f"{__name__}.ProbingBackend"
    ProbingBackend.seen = []
    appointment, _token = services.booking_create(
        slot=SlotFactory(capacity=1), applicant=applicant()
    )
    messages = {
        m.channel: m.pk for m in OutboxMessage.objects.filter(appointment_id=appointment.pk)
    }
    handler = ProbingInbox()
    with smtp_server(settings, handler) as inbox:
        assert delivery.outbox_sweep() == 2

    assert len(inbox.envelopes) == 1
    (on_the_phone,) = ProbingBackend.seen
    (at_the_mail_server,) = handler.seen
    for seen, channel in ((on_the_phone, "sms"), (at_the_mail_server, "email")):
        assert seen["rows_free"] is True, channel  # no row of the outbox locked
        assert seen["claimed"] == [messages[channel]]  # the one on its way is claimed...
        assert seen["taken_by_another"] == [False]  # ...and nobody else sends it
    assert on_the_phone["sender_in_transaction"] is False
    assert set(OutboxMessage.objects.values_list("status", "claimed_until")) == {("sent", None)}


class SenderDied(BaseException):
    """The sending process ends here (killed): nothing after this line of it runs."""


class DyingBackend(sms.BaseSmsBackend):
    def send(self, to: str, text: str) -> None:
        raise SenderDied()


def sms_of(appointment: Appointment) -> OutboxMessage:
    return OutboxMessage.objects.get(appointment_id=appointment.pk, channel="sms")


@pytest.mark.django_db
def test_the_claim_of_a_sender_that_died_lapses_and_the_message_is_sent_once(settings, freeze):
    freeze("2025-11-21T10:00:00Z")
    settings.OUTBOX_CLAIM_SECONDS = 300
    appointment, _token = book_at_reopening()
    message = sms_of(appointment)
    settings.SMS_BACKEND = f"{__name__}.DyingBackend"
    with pytest.raises(SenderDied):
        delivery.outbox_deliver(message_id=message.pk)

    message.refresh_from_db()
    lapses = message.claimed_until
    assert (message.status, message.attempts) == ("pending", 0)
    assert message.next_attempt_at == lapses
    assert lapses.isoformat() == "2025-11-21T10:05:00+00:00"

    settings.SMS_BACKEND = f"{RecordingBackend.__module__}.RecordingBackend"
    RecordingBackend.sent = []
    freeze(lapses - timedelta(seconds=1))
    assert delivery.outbox_sweep() == 1  # the email; the SMS is still claimed
    assert delivery.outbox_deliver(message_id=message.pk) is False
    assert RecordingBackend.sent == []

    freeze(lapses)
    assert delivery.outbox_sweep() == 1
    assert delivery.outbox_sweep() == 0
    assert len(RecordingBackend.sent) == 1
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_until) == ("sent", 1, None)
    assert message.last_error == delivery.LOST_SENDER
    assert message.payload == {}


@pytest.mark.django_db
def test_a_message_whose_senders_keep_dying_is_abandoned_at_the_last_attempt(settings, freeze):
    freeze("2025-11-21T10:00:00Z")
    appointment, token = book_at_reopening()
    message = sms_of(appointment)
    settings.SMS_BACKEND = f"{__name__}.DyingBackend"
    for attempt in range(delivery.MAX_ATTEMPTS):
        with pytest.raises(SenderDied):
            delivery.outbox_deliver(message_id=message.pk)
        message.refresh_from_db()
        assert message.attempts == attempt
        freeze(message.claimed_until)

    assert delivery.outbox_deliver(message_id=message.pk) is False  # not tried again
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_until) == (
        "failed",
        delivery.MAX_ATTEMPTS,
        None,
    )
    assert token not in str(message.payload)  # the manage token leaves with the last try


@pytest.mark.django_db
def test_only_a_message_to_send_may_be_claimed():
    appointment, _token = book_at_reopening()
    message = sms_of(appointment)
    with pytest.raises(DatabaseError, match="outbox_claimed_only_pending"), transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(
            status="sent", claimed_until=message.next_attempt_at
        )
