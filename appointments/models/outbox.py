"""The messages to applicants, written in the change's transaction and sent by the outbox
sweep (appointments/delivery.py)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .appointment import Appointment


class OutboxMessage(models.Model):
    """A notification to send, written in the same transaction as the change that causes it.

    The periodic outbox sweep (appointments.delivery.outbox_sweep, run by beat) sends it and
    retries it with backoff, so nothing is lost while Redis or the mail server is down. Its
    `idempotency_key` names the event (appointments.notifications): written twice, by a retry
    or a re-run, the event is one message per channel all the same.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("à envoyer")
        SENT = "sent", _("envoyé")
        FAILED = "failed", _("abandonné")

    # Kinds sent before any other message: a hold's code is worth something only for the 15
    # minutes of its hold, and a reopening queues thousands of file notifications ahead of it.
    FIRST_KINDS = ("booking_code",)

    channel = models.CharField(max_length=5, choices=Channel.choices)
    kind = models.CharField(max_length=40, help_text="booking_confirmed, file_ready, …")
    # 0 for FIRST_KINDS, 1 for the rest: senders claim by priority, then due time
    # (delivery.py, the index outbox_pending_due). PostgreSQL computes it from the kind (a
    # stored generated column), so every statement that writes the outbox, the hand-written
    # SQL included, sets it without naming it: the one home of the rule.
    priority = models.GeneratedField(
        expression=models.Case(
            models.When(kind__in=FIRST_KINDS, then=models.Value(0)), default=models.Value(1)
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="messages", null=True, blank=True
    )
    recipient = models.CharField(max_length=254)
    language = models.CharField(max_length=2, default="fr")
    # Secrets the message must carry (the manage token of a confirmation): kept only until
    # the message is sent, then wiped, so that the database holds the token's hash alone.
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.TextField(help_text="appointment:12:cancelled, file:7:ready:31, …")
    # While a worker sends the message, the end of its claim (delivery.py); past
    # it, that worker is known to be gone and the message is due again.
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message sortant")
        verbose_name_plural = _("messages sortants")
        constraints = [
            # The target of every insert's ON CONFLICT DO NOTHING.
            models.UniqueConstraint(
                fields=["idempotency_key", "channel"], name="outbox_idempotency_key_channel"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms"]), name="outbox_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sent", "failed"]), name="outbox_status_valid"
            ),
            # Only a message still to send can be claimed by a sender.
            models.CheckConstraint(
                condition=Q(claimed_until__isnull=True) | Q(status="pending"),
                name="outbox_claimed_only_pending",
            ),
        ]
        indexes = [
            # The claim's order (delivery.py): the first due message is the first entry.
            models.Index(
                fields=["priority", "next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="outbox_pending_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.status})"
