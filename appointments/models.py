from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Bilingual, Office

from .validation import E164_PATTERN


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("lundi")
    TUESDAY = 1, _("mardi")
    WEDNESDAY = 2, _("mercredi")
    THURSDAY = 3, _("jeudi")
    FRIDAY = 4, _("vendredi")
    SATURDAY = 5, _("samedi")
    SUNDAY = 6, _("dimanche")


class OpeningHours(models.Model):
    """One opening period of an office on a weekday (e.g. Monday 08:00-12:00, 4 counters)."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("bureau")
    )
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    starts = models.TimeField(_("ouverture"))
    ends = models.TimeField(_("fermeture"))
    slot_minutes = models.PositiveSmallIntegerField(_("durée d’un créneau (minutes)"), default=15)
    counters = models.PositiveSmallIntegerField(
        _("guichets"), default=1, help_text=_("Nombre de personnes reçues par créneau.")
    )

    class Meta:
        verbose_name = _("horaires d’ouverture")
        verbose_name_plural = _("horaires d’ouverture")
        ordering = ["office", "weekday", "starts"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "weekday", "starts"], name="opening_hours_unique_start"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_hours_weekday"),
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")), name="opening_hours_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="opening_hours_slot_minutes",
            ),
            models.CheckConstraint(condition=Q(counters__gt=0), name="opening_hours_counters"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class Closure(models.Model):
    """Days when an office (or every office, when `office` is empty) receives nobody."""

    office = models.ForeignKey(
        Office,
        on_delete=models.CASCADE,
        related_name="closures",
        null=True,
        blank=True,
        verbose_name=_("bureau"),
        help_text=_("Laisser vide pour fermer tous les bureaux."),
    )
    start_date = models.DateField(_("du"))
    end_date = models.DateField(_("au (inclus)"))
    reason = models.CharField(_("motif"), max_length=200)
    reason_en = models.CharField(_("motif en anglais"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="closure_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date}–{self.end_date}: {self.reason}"


class Suspension(models.Model):
    """A period when the Premium service is suspended, for all offices or some."""

    starts_at = models.DateTimeField(_("début"))
    reopens_at = models.DateTimeField(
        _("réouverture prévue"), null=True, blank=True, help_text=_("Vide si non fixée.")
    )
    offices = models.ManyToManyField(
        Office,
        blank=True,
        related_name="suspensions",
        verbose_name=_("bureaux"),
        help_text=_("Laisser vide pour suspendre le service dans tous les bureaux."),
    )
    message = models.TextField(_("message public"))
    message_en = models.TextField(_("message public en anglais"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suspension du service")
        verbose_name_plural = _("suspensions du service")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reopens_at__isnull=True) | Q(reopens_at__gt=models.F("starts_at")),
                name="suspension_reopens_after_start",
            ),
        ]

    display_message = Bilingual("message")

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} → {self.reopens_at or '…'}"


class Slot(models.Model):
    """A bookable time at an office. `booked` counts the appointments holding a seat; it is
    kept by a database trigger on appointments (migration 0003) and checked against
    `capacity` by the database, so a slot can never hold more appointments than seats."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField()
    booked = models.PositiveSmallIntegerField(default=0, editable=False)
    # Seats held back for the appointments a suspension displaced, in the first days after
    # its reopening (services.displaced): a new booking needs booked + reserved < capacity.
    reserved = models.PositiveSmallIntegerField(default=0, editable=False)
    is_open = models.BooleanField(default=True, help_text=_("Faux pendant une fermeture."))

    class Meta:
        verbose_name = _("créneau")
        verbose_name_plural = _("créneaux")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["office", "starts_at"], name="slot_office_starts_key"),
            # Target of the composite foreign key (slot_id, office_id) from Appointment.
            models.UniqueConstraint(fields=["id", "office"], name="slot_id_office_key"),
            models.CheckConstraint(
                condition=Q(booked__gte=0, booked__lte=models.F("capacity")),
                name="slot_within_capacity",
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="slot_capacity_positive"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0, reserved__lte=models.F("capacity")),
                name="slot_reserved_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office.code} {self.starts_at.isoformat()}"

    @property
    def remaining(self) -> int:
        """Seats left for a new booking."""
        return max(self.capacity - self.booked - self.reserved, 0)

    @property
    def local_starts_at(self):
        return self.starts_at.astimezone(self.office.timezone)


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


# Waiting room at a reopening (appointments/waiting_room/) -------------------------------


class WaitingLine(models.Model):
    """The waiting room of one office around the reopening of one suspension. Who is
    admitted is computed, never stored per person: from the reopening, `base + rate x (t -
    since)` places are in at `t`, segment after segment (`segments`: one is appended, under
    this row's lock, when the rate changes or an arrival finds the line empty; empty: one
    segment from the reopening at `rate`), so a refresh writes nothing and each place's
    admission time is the moment the count really reached it.

    The early arrivals (those drawn at the reopening) are settled under this row's lock by
    the first ticket issued at or after the reopening: `early` regular tickets, for the
    reopening `early_for` (a moved reopening settles again)."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="waiting_lines", verbose_name=_("bureau")
    )
    suspension = models.ForeignKey(
        Suspension,
        on_delete=models.CASCADE,
        related_name="waiting_lines",
        verbose_name=_("suspension"),
    )
    rate = models.FloatField(
        _("admissions par seconde"),
        validators=[MinValueValidator(0)],
        help_text=_("0 suspend les admissions ; chaque changement part du nombre déjà admis."),
    )
    # [{"at": seconds after the reopening, "start": places in before it, "base": places in
    # at its start, "rate": per second}, ...], in order; the first at 0.
    segments = models.JSONField(default=list, blank=True, editable=False)
    early = models.PositiveIntegerField(null=True, blank=True, editable=False)
    early_for = models.DateTimeField(null=True, blank=True, editable=False)
    # The seats the line lets people in for (waiting_room/seats.py): the office's free seats
    # as at the reopening, counted by each ticket issued before it and settled by the first
    # one issued at or after it, with `early`.
    seats = models.PositiveIntegerField(null=True, blank=True, editable=False)
    issued = models.PositiveIntegerField(_("places attribuées"), default=0, editable=False)
    # Tickets past their network's bound (at the back of the line), and how many of them
    # the last ticket within the bounds has ahead of it.
    overflowed = models.PositiveIntegerField(default=0, editable=False)
    ahead = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("salle d’attente")
        verbose_name_plural = _("salles d’attente")
        constraints = [
            models.UniqueConstraint(
                fields=["office", "suspension"], name="waiting_line_office_suspension"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="waiting_line_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} / {self.suspension_id}"


class WaitingTicket(models.Model):
    """A place in a waiting line: `number` is the arrival order in the line (1, 2, ...,
    dense: given under the line's row lock, so in the order of commit). `lane_number` is
    the same order among the tickets of its lane: within the bounds, or `overflow` (past its
    network's bound: after every ticket within the bounds). The early tickets within the
    bounds are put in a secret random order at the reopening (appointments/waiting_room/),
    later ones keep their order; `ahead` is how many overflow tickets had been admitted
    before this one arrived (they stay ahead of it)."""

    line = models.ForeignKey(WaitingLine, on_delete=models.CASCADE, related_name="tickets")
    number = models.PositiveIntegerField()
    overflow = models.BooleanField(default=False)
    lane_number = models.PositiveIntegerField()
    ahead = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "number"], name="waiting_ticket_line_number"),
            models.UniqueConstraint(
                fields=["line", "overflow", "lane_number"], name="waiting_ticket_line_lane"
            ),
        ]
        indexes = [models.Index(fields=["line", "created_at"], name="waiting_ticket_line_arrival")]

    def __str__(self) -> str:
        return f"{self.line_id}#{self.number}"


class WaitingNetwork(models.Model):
    """Tickets a network (a /24 IPv4 or /48 IPv6, `kind` network) or an address (the rate
    limit's key: an IPv4 address or the /64 of an IPv6 one, `kind` address) took in a line,
    counted by an upsert on this row, so the bounds hold under concurrency."""

    NETWORK, ADDRESS = "network", "address"

    line = models.ForeignKey(WaitingLine, on_delete=models.CASCADE, related_name="networks")
    kind = models.CharField(max_length=8, default=NETWORK)
    network = models.CharField(max_length=50)
    tickets = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["line", "kind", "network"], name="waiting_network_line_kind_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.kind} {self.network}: {self.tickets}"
