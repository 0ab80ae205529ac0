"""An appointment, the events of its moves, the staff's views of it, and what bounds the
holds of the booking (networks, used proof-of-work challenges)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Office

from ..validation import E164_PATTERN
from .calendar import Slot


class Appointment(models.Model):
    """An applicant's booking of one slot."""

    class Status(models.TextChoices):
        # A seat held until the applicant enters the code sent to them (contact
        # verification, services/verification.py); `expired` when they never did.
        PENDING = "pending", _("en attente du code")
        BOOKED = "booked", _("réservé")
        CHECKED_IN = "checked_in", _("présent")
        ENROLLED = "enrolled", _("enrôlé")
        NO_SHOW = "no_show", _("absent")
        CANCELLED = "cancelled", _("annulé")
        DISPLACED = "displaced", _("à reprogrammer")
        EXPIRED = "expired", _("expiré (code non saisi)")

    # Statuses that hold a seat of the slot (counted in Slot.booked by the trigger) and
    # statuses that count as "the applicant already has an appointment". A pending hold
    # takes a seat but is not an appointment yet: the same identity may hold several.
    SEAT_HOLDING = ("pending", "booked", "checked_in", "enrolled", "no_show")
    ACTIVE = ("booked", "checked_in")

    class Language(models.TextChoices):
        FR = "fr", "Français"
        EN = "en", "English"

    reference = models.CharField(_("référence"), max_length=16, unique=True)
    # Both are enforced by one composite foreign key, (slot_id, office_id) -> the slot's
    # (id, office_id) (migration 0003): the slot exists and belongs to this office. Two more
    # single-column keys would only add two lookups to every booking of a rush.
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="appointments", db_constraint=False
    )
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="appointments", db_constraint=False
    )
    status = models.CharField(
        _("statut"), max_length=12, choices=Status.choices, default=Status.BOOKED
    )
    # Identity data: erased (appointments.services.retention) once no longer needed, the
    # texts emptied and these three set to NULL, which every constraint on them accepts
    # (a unique index counts no NULL twice, a check passes NULL); see erased_at below.
    surname = models.CharField(_("nom"), max_length=100)
    given_names = models.CharField(_("prénoms"), max_length=150)
    birth_date = models.DateField(_("date de naissance"), null=True)
    national_id = models.CharField(  # noqa: DJ001 - NULL: erased
        _("NINA ou numéro de passeport"),
        max_length=20,
        null=True,
        help_text=_("Enregistré en majuscules, sans espaces ni tirets."),
    )
    email = models.EmailField(_("adresse e-mail"))
    phone = models.CharField(_("téléphone (E.164)"), max_length=16, null=True)  # noqa: DJ001
    language = models.CharField(
        _("langue"), max_length=2, choices=Language.choices, default=Language.FR
    )
    manage_token_hash = models.CharField(max_length=64, editable=False)
    # The channels the applicant is written to (the manage page turns one off): at least one.
    notify_email = models.BooleanField(_("messages par e-mail"), default=True)
    notify_sms = models.BooleanField(_("messages par SMS"), default=True)
    # Contact verification (services/verification.py): a pending hold lapses at
    # `hold_expires_at` unless the code is entered; only a keyed hash of the code is kept,
    # with the wrong tries counted. `replaces`: the identity's booked appointment when the
    # hold was made, to whose contacts the code went and which confirming replaces. Not a
    # database foreign key, like office and slot: a lookup less in every booking of a rush.
    hold_expires_at = models.DateTimeField(_("place retenue jusqu’à"), null=True, blank=True)
    code_hash = models.CharField(max_length=64, blank=True, editable=False)
    code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    replaces = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
        editable=False,
    )
    # The bounds on pending holds (services/holds.py): the email address as one mailbox
    # (validation.email_key), and the network the hold came from (a /24 IPv4 or /48 IPv6,
    # clients.hold_network; empty when made by staff or a task). One pending hold per
    # identity number, phone and mailbox: partial unique indexes below. Holds per network:
    # the counter HoldNetwork, kept by a trigger.
    email_key = models.CharField(
        max_length=254, blank=True, default="", db_default="", editable=False
    )
    hold_network = models.CharField(
        max_length=50, blank=True, default="", db_default="", editable=False
    )
    # The waiting-room ticket whose admission made it, around a reopening: one admission
    # holds one seat at a time (the partial unique index appointment_one_per_admission).
    admission_ticket = models.BigIntegerField(null=True, blank=True, editable=False)
    # How many times the applicant moved it (MAX_MOVES bounds it).
    moves = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When its identity data was erased; its status, dates, office and slot stay (statistics).
    erased_at = models.DateTimeField(
        _("données personnelles effacées le"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("rendez-vous")
        verbose_name_plural = _("rendez-vous")
        ordering = ["slot__starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["national_id"],
                condition=Q(status__in=["booked", "checked_in"]),
                name="appointment_one_active_per_identity",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending",
                        "booked",
                        "checked_in",
                        "enrolled",
                        "no_show",
                        "cancelled",
                        "displaced",
                        "expired",
                    ]
                ),
                name="appointment_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(hold_expires_at__isnull=False),
                name="appointment_pending_has_expiry",
            ),
            models.CheckConstraint(
                condition=Q(code_attempts__lte=3), name="appointment_code_attempts_max"
            ),
            models.CheckConstraint(
                condition=Q(language__in=["fr", "en"]), name="appointment_language_valid"
            ),
            models.CheckConstraint(
                condition=Q(phone__regex=E164_PATTERN.pattern), name="appointment_phone_e164"
            ),
            models.CheckConstraint(
                condition=Q(notify_email=True) | Q(notify_sms=True),
                name="appointment_notify_some_channel",
            ),
            # Personal data (migration 0007_retention): a row holds the applicant's whole
            # identity, or none of it and the time it was erased.
            models.CheckConstraint(
                condition=Q(
                    erased_at__isnull=True,
                    birth_date__isnull=False,
                    national_id__isnull=False,
                    phone__isnull=False,
                )
                | Q(
                    erased_at__isnull=False,
                    surname="",
                    given_names="",
                    birth_date__isnull=True,
                    national_id__isnull=True,
                    email="",
                    phone__isnull=True,
                    manage_token_hash="",
                ),
                name="appointment_identity_or_erased",
            ),
            # One pending hold per person, per phone and per mailbox (a second answers
            # too_many_holds): a bot cannot hold many seats with one identity or contact,
            # nor draw more codes against somebody else's booking than one at a time.
            models.UniqueConstraint(
                fields=["national_id"],
                condition=Q(status="pending"),
                name="appointment_one_hold_per_identity",
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(status="pending"),
                name="appointment_one_hold_per_phone",
            ),
            models.UniqueConstraint(
                fields=["email_key"],
                condition=Q(status="pending") & ~Q(email_key=""),
                name="appointment_one_hold_per_email",
            ),
            models.UniqueConstraint(
                fields=["admission_ticket"],
                condition=Q(admission_ticket__isnull=False)
                & Q(status__in=["pending", "booked", "checked_in", "enrolled", "no_show"]),
                name="appointment_one_per_admission",
            ),
        ]
        indexes = [
            models.Index(fields=["office", "status"], name="appointment_office_status"),
            # The appointments not erased yet, walked in id order by the erasure task.
            models.Index(
                fields=["id"], condition=Q(erased_at__isnull=True), name="appointment_kept"
            ),
            # The lapsed holds of a slot (the booking statement) or of all (the periodic
            # expiry): a small index, empty when contact verification is off.
            models.Index(
                fields=["slot", "hold_expires_at"],
                condition=Q(status="pending"),
                name="appointment_pending_hold",
            ),
            models.Index(
                fields=["replaces"],
                condition=Q(replaces__isnull=False),
                name="appointment_replaces",
            ),
            # The lapsed holds of a network, expired when its budget is spent.
            models.Index(
                fields=["hold_network", "hold_expires_at"],
                condition=Q(status="pending"),
                name="appointment_pending_network",
            ),
            # Wrong codes per identity number over a day (CODE_FAILURES_PER_NINA): only the
            # holds that had a wrong try, a small index.
            models.Index(
                fields=["national_id", "updated_at"],
                condition=Q(code_attempts__gt=0),
                name="appointment_code_failures",
            ),
            # The bookings made with a waiting line's admissions, read with its seats every
            # second or so while the line runs (waiting_room/seats.py): a small index.
            models.Index(
                fields=["admission_ticket"],
                condition=Q(admission_ticket__isnull=False),
                name="appointment_admission_ticket",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class HoldNetwork(models.Model):
    """How many pending holds a network (a /24 IPv4 or /48 IPv6) has now: the booking
    statement takes one only while fewer than HOLDS_PER_NETWORK are (a conditional upsert of
    this row, which serialises the holds of one network), and a trigger on appointments
    gives it back when the hold ends (confirmed, expired, released), whichever path ends it
    (migration 0012)."""

    network = models.CharField(max_length=50, primary_key=True)
    held = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("réseau (places retenues)")
        verbose_name_plural = _("réseaux (places retenues)")
        constraints = [
            models.CheckConstraint(condition=Q(held__gte=0), name="hold_network_held_positive")
        ]

    def __str__(self) -> str:
        return f"{self.network}: {self.held}"


class UsedChallenge(models.Model):
    """A proof-of-work challenge accepted once (appointments.protection): its signature is
    the key, so a replay is refused by the database, with Redis up or down. Rows are deleted
    by the periodic task once the challenge has expired (it is refused then anyway)."""

    signature = models.CharField(max_length=128, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.signature[:12]


class AppointmentEvent(models.Model):
    """A change of an appointment's status made by a person of the staff, with who, when and
    why: append-only (a trigger refuses UPDATE and DELETE, as for file events)."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="events", db_constraint=False
    )
    from_status = models.CharField(_("de"), max_length=12)
    to_status = models.CharField(_("à"), max_length=12)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    at = models.DateTimeField(_("le"), default=timezone.now)
    action = models.CharField(_("action"), max_length=20)
    note = models.TextField(_("motif"), blank=True)

    class Meta:
        verbose_name = _("événement de rendez-vous")
        verbose_name_plural = _("événements de rendez-vous")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["appointment", "at"], name="appointment_event_at")]

    def __str__(self) -> str:
        return f"{self.appointment_id}: {self.from_status} -> {self.to_status}"


class AppointmentView(models.Model):
    """A member of staff saw an appointment's identity data (the agenda, the check-in desk's
    lookup, the admin's lists, searches and pages, the staff API's agenda): who, which
    appointment, when, how. Append-only (a trigger refuses changes), for the ministry's
    administrators to read in the admin, like the views of passport files."""

    class Via(models.TextChoices):
        AGENDA = "agenda", _("agenda du bureau")
        COUNTER = "counter", _("recherche à l’accueil")
        ADMIN_LIST = "alist", _("liste ou recherche de l’administration")
        ADMIN = "admin", _("fiche dans l’administration")
        API = "api", _("API")

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="views", verbose_name=_("rendez-vous")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("qui")
    )
    via = models.CharField(_("par"), max_length=7, choices=Via.choices)
    at = models.DateTimeField(_("quand"), default=timezone.now)

    class Meta:
        verbose_name = _("consultation d’un rendez-vous")
        verbose_name_plural = _("consultations des rendez-vous")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["appointment", "at"], name="appointment_view_at"),
            models.Index(fields=["user", "at"], name="appointment_view_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.appointment_id} ({self.via}, {self.at:%Y-%m-%d %H:%M})"
