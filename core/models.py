"""What every app of the portal stands on: the offices that receive applicants, the staff's
roles at them, the one-time codes that let a member of staff enrol a second factor, and the
outbox of messages to applicants (core/outbox/).

The tables keep the names they had when the appointments app held these models
(`appointments_office`, `appointments_outboxmessage`, ...): the moves changed Django's state
only (migrations 0001 and 0002)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from timezone_field import TimeZoneField

OFFICE_CODE_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def applicant_language() -> str:
    """The active language as one of the applicants' languages: "en" when English is
    active, "fr" otherwise (French is the default)."""
    return "en" if (get_language() or "fr").startswith("en") else "fr"


class Bilingual:
    """A text shown in the active language: `display_name = Bilingual("name")` reads
    `name_en` when English is active and that field is filled in, `name` (French)
    otherwise."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.english_field = f"{field}_en"

    def __get__(self, instance: models.Model | None, owner: type) -> "str | Bilingual":
        if instance is None:
            return self
        english = getattr(instance, self.english_field)
        if english and applicant_language() == "en":
            return english
        return getattr(instance, self.field)


class Office(models.Model):
    """Any place that receives applicants: a production centre in Mali or a mission abroad."""

    class Kind(models.TextChoices):
        CENTRE = "centre", _("Centre de production (Mali)")
        MISSION = "mission", _("Ambassade ou consulat")

    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Identifiant court, par exemple bko-centre ou paris-consulat."),
    )
    name = models.CharField(_("nom"), max_length=200)
    name_en = models.CharField(_("nom en anglais"), max_length=200, blank=True)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    city = models.CharField(_("ville"), max_length=100)
    country = CountryField(_("pays"))
    timezone = TimeZoneField(_("fuseau horaire"), use_pytz=False)
    address = models.TextField(_("adresse"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    # When the office was last made inactive (set by the database, trigger
    # office_deactivated_at; None while active): its displaced appointments wait this long
    # for a new time before their identity data is erased (services/retention_pick.sql).
    deactivated_at = models.DateTimeField(
        _("inactif depuis"), null=True, blank=True, editable=False
    )

    class Meta:
        db_table = "appointments_office"
        verbose_name = _("bureau")
        verbose_name_plural = _("bureaux")
        ordering = ["kind", "city", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["centre", "mission"]), name="office_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(code__regex=OFFICE_CODE_PATTERN), name="office_code_slug"
            ),
            # Target of the composite foreign keys (office_id, office_kind) from Centre and
            # Mission, which let the database refuse a Centre on a mission office.
            models.UniqueConstraint(fields=["id", "kind"], name="office_id_kind_key"),
        ]

    display_name = Bilingual("name")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"


class Membership(models.Model):
    """A member of staff's role at an office. Administrators of the ministry have the role
    `admin` with no office: they see every office."""

    class Role(models.TextChoices):
        AGENT = "agent", _("agent d’accueil")
        SUPERVISOR = "supervisor", _("superviseur")
        OPERATOR = "operator", _("opérateur de production")
        ADMIN = "admin", _("administrateur du ministère")

    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="memberships", verbose_name=_("agent")
    )
    office = models.ForeignKey(
        Office,
        on_delete=models.CASCADE,
        related_name="memberships",
        null=True,
        blank=True,
        verbose_name=_("bureau"),
    )
    role = models.CharField(_("rôle"), max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "appointments_membership"
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "office", "role"],
                name="membership_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(role__in=["agent", "supervisor", "operator", "admin"]),
                name="membership_role_valid",
            ),
            # An administrator's role covers every office; every other role is at one.
            models.CheckConstraint(
                condition=Q(role="admin", office__isnull=True)
                | (~Q(role="admin") & Q(office__isnull=False)),
                name="membership_office_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.office or '*'}"


class EnrolmentCode(models.Model):
    """A one-time code that an administrator gives a member of staff to enrol their
    authenticator app (core/services.py). Without it, whoever knew a new supervisor's
    password could enrol their own device first. Only a keyed hash is kept; it is valid
    ENROLMENT_CODE_HOURS and used once (the conditional update that marks it used)."""

    user = models.ForeignKey(
        "auth.User",
        on_delete=models.CASCADE,
        related_name="enrolment_codes",
        verbose_name=_("agent"),
    )
    digest = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        "auth.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("émis par"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("valable jusqu’à"))
    used_at = models.DateTimeField(_("utilisé le"), null=True, blank=True)

    class Meta:
        db_table = "appointments_enrolmentcode"
        verbose_name = _("code d’enregistrement")
        verbose_name_plural = _("codes d’enregistrement")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="enrolment_code_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.expires_at:%Y-%m-%d %H:%M}"


# The outbox's priority rule: a kind whose name ends so is sent before any other message.
# A rule on the name, not a list of kinds, because PostgreSQL computes the priority (a
# stored generated column, its expression frozen in a migration) and core knows none of the
# apps' kinds: an app adds a kind sent first without a migration, by its name alone. The
# registry (core/outbox/kinds.py) refuses a kind whose `first` disagrees with its name.
FIRST_KIND_SUFFIX = "_code"


class OutboxMessage(models.Model):
    """A notification to send, written in the same transaction as the change that causes it.

    The periodic outbox sweep (core.outbox.delivery.outbox_sweep, run by beat) sends it and
    retries it with backoff, so nothing is lost while Redis or the mail server is down. Its
    `idempotency_key` names the event (appointments.notifications): written twice, by a retry
    or a re-run, the event is one message per channel all the same. What each kind says is
    registered by the app that owns the kind (core/outbox/kinds.py).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("à envoyer")
        SENT = "sent", _("envoyé")
        FAILED = "failed", _("abandonné")

    channel = models.CharField(max_length=5, choices=Channel.choices)
    kind = models.CharField(max_length=40, help_text="booking_confirmed, file_ready, …")
    # 0 for the kinds sent first (a hold's code is worth something only for the 15 minutes
    # of its hold, and a reopening queues thousands of file notifications ahead of it), 1 for
    # the rest: senders claim by priority, then due time (core/outbox/delivery.py, the index
    # outbox_pending_due). PostgreSQL computes it from the kind (a stored generated column),
    # so every statement that writes the outbox, the hand-written SQL included, sets it
    # without naming it: the one home of the rule.
    priority = models.GeneratedField(
        expression=models.Case(
            models.When(kind__endswith=FIRST_KIND_SUFFIX, then=models.Value(0)),
            default=models.Value(1),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    # The appointment the message is about, by id only: core knows no app above it. Its
    # foreign key is in the database, owned by the appointments app (its migration 0020),
    # which deletes an appointment's messages with it (ON DELETE CASCADE).
    appointment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
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
    # While a worker sends the message, the end of its claim (core/outbox/delivery.py); past
    # it, that worker is known to be gone and the message is due again.
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "appointments_outboxmessage"
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
