from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Office


class Centre(models.Model):
    """The production side of an office of kind `centre`."""

    office = models.OneToOneField(
        Office, on_delete=models.PROTECT, related_name="centre", verbose_name=_("bureau")
    )
    # Always "centre": with office_id it forms a foreign key to (Office.id, Office.kind), so
    # the database itself refuses a Centre on a mission office (migration 0002).
    office_kind = models.CharField(max_length=10, default=Office.Kind.CENTRE, editable=False)
    daily_capacity = models.PositiveIntegerField(
        _("capacité journalière"),
        help_text=_("Nombre de passeports Premium que le centre peut produire par jour."),
    )

    class Meta:
        verbose_name = _("centre de production")
        verbose_name_plural = _("centres de production")
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_capacity__gt=0), name="centre_daily_capacity_positive"
            ),
            models.CheckConstraint(condition=Q(office_kind="centre"), name="centre_office_kind"),
        ]

    def __str__(self) -> str:
        return str(self.office)

    def clean(self) -> None:
        if self.office_id and self.office.kind != Office.Kind.CENTRE:
            raise ValidationError(
                {"office": _("Un centre de production doit être un bureau de type centre.")}
            )


class FileStatus(models.TextChoices):
    ON_HOLD = "on_hold", _("mis en attente")
    ENROLLED = "enrolled", _("dossier reçu")
    QUEUED = "queued", _("en attente de production")
    IN_PRODUCTION = "in_production", _("en production")
    QUALITY_CHECK = "quality_check", _("contrôle qualité")
    IN_TRANSIT = "in_transit", _("en acheminement")
    READY = "ready", _("disponible")
    DELIVERED = "delivered", _("remis")
    REJECTED = "rejected", _("rejeté")


# The files that wait for production: received at the office, queued, or on hold (the
# dashboard's backlog, the public status page, the tracking estimate, the metrics).
WAITING = (FileStatus.ON_HOLD, FileStatus.ENROLLED, FileStatus.QUEUED)

# The order in which a centre takes its queued files into production: the Premium promise
# first (due date), then the time of enrolment, the id to break ties. Its one home: the
# dispatcher and the release of held files take them in it (sql/dispatch.sql, release.sql),
# the tracking estimate counts a file's place in it (estimate.py, sql/batch_starts.sql) and
# the index file_queue_order serves it.
QUEUE_ORDER = ("due_date", "created_at", "id")


class ProductionBatch(models.Model):
    """The files a centre takes into production on one of its local days (the backlog
    dispatcher fills it): never more than its capacity, a check constraint."""

    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, related_name="batches", verbose_name=_("centre")
    )
    day = models.DateField(_("jour"))
    capacity = models.PositiveIntegerField(
        _("capacité"),
        help_text=_("La capacité journalière du centre ce jour-là."),
    )
    size = models.PositiveIntegerField(_("dossiers"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lot de production")
        verbose_name_plural = _("lots de production")
        ordering = ["-day", "centre"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "day"], name="batch_one_per_centre_day"),
            models.CheckConstraint(
                condition=Q(size__gte=0, size__lte=models.F("capacity")),
                name="batch_within_capacity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.day} ({self.size}/{self.capacity})"


class PassportFile(models.Model):
    """A passport file ("dossier"), created when an applicant is enrolled at an office and
    produced by a centre. Its status changes only through production.services.file_transition,
    each change leaving a FileEvent."""

    reference = models.CharField(_("numéro de dossier"), max_length=16, unique=True)
    appointment = models.OneToOneField(
        "appointments.Appointment",
        on_delete=models.PROTECT,
        related_name="passport_file",
        null=True,
        blank=True,
    )
    office = models.ForeignKey(
        Office,
        on_delete=models.PROTECT,
        related_name="files",
        verbose_name=_("bureau d’enrôlement"),
    )
    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        related_name="files",
        verbose_name=_("centre de production"),
    )
    status = models.CharField(
        _("statut"), max_length=14, choices=FileStatus.choices, default=FileStatus.ENROLLED
    )
    surname = models.CharField(_("nom"), max_length=100)
    given_names = models.CharField(_("prénoms"), max_length=150)
    national_id = models.CharField(_("NINA ou numéro de passeport"), max_length=20)
    # With the reference, what the applicant gives to follow the file (/suivi/): copied from
    # the appointment at enrolment, so that the file keeps it when the appointment is erased.
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    due_date = models.DateField(_("date de remise prévue"))
    rejection_reason = models.TextField(_("motif du rejet"), blank=True)
    # Put on hold by the service because of a suspension (not by a member of staff): released
    # by the backlog's sync once no suspension is in force at its office.
    held_by_service = models.BooleanField(_("mis en attente par le service"), default=False)
    suspension = models.ForeignKey(
        "appointments.Suspension",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="held_files",
        verbose_name=_("suspension"),
    )
    batch = models.ForeignKey(
        ProductionBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="files",
        verbose_name=_("lot de production"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When its identity data (and its appointment's) was erased, RETENTION_FILE_DAYS after
    # its delivery (production.retention); its status, dates, offices and events stay.
    erased_at = models.DateTimeField(
        _("données personnelles effacées le"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("dossier passeport")
        verbose_name_plural = _("dossiers passeport")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[value for value, _label in FileStatus.choices]),
                name="file_status_valid",
            ),
            models.CheckConstraint(
                # An erased rejected file has lost its reason with its identity.
                condition=~Q(status="rejected")
                | ~Q(rejection_reason="")
                | Q(erased_at__isnull=False),
                name="file_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(held_by_service=True) | Q(status="on_hold"),
                name="file_held_by_service_on_hold",
            ),
            # Personal data (migration 0009): an erased file holds no identity.
            models.CheckConstraint(
                condition=Q(erased_at__isnull=True)
                | Q(
                    surname="",
                    given_names="",
                    national_id="",
                    birth_date__isnull=True,
                    rejection_reason="",
                ),
                name="file_identity_erased",
            ),
        ]
        indexes = [
            models.Index(fields=["office", "status"], name="file_office_status"),
            models.Index(fields=["centre", "status"], name="file_centre_status"),
            # The dispatcher's queue of a centre, in its priority order.
            models.Index(
                fields=["centre", *QUEUE_ORDER],
                condition=Q(status="queued"),
                name="file_queue_order",
            ),
            models.Index(
                fields=["office"], condition=Q(held_by_service=True), name="file_held_by_service"
            ),
            # The waiting files (the backlog), few among all: the public status page's
            # figures and the backlog's snapshot read only these.
            models.Index(
                fields=["centre", "office", "created_at"],
                condition=Q(
                    status__in=[FileStatus.ON_HOLD, FileStatus.ENROLLED, FileStatus.QUEUED]
                ),
                name="file_waiting",
            ),
            # The delivered files not erased yet, walked in id order by the erasure task.
            models.Index(
                fields=["id"],
                condition=Q(status=FileStatus.DELIVERED, erased_at__isnull=True),
                name="file_delivered_kept",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class FileEvent(models.Model):
    """One change of a file's status: append-only (the database refuses UPDATE and DELETE,
    migration 0004), the source of the applicant's timeline."""

    file = models.ForeignKey(PassportFile, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=14, choices=FileStatus.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=FileStatus.choices)
    by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("événement du dossier")
        verbose_name_plural = _("événements du dossier")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["file", "at"], name="file_event_file_at"),
            # The moves to a status over a recent period: passports produced this week (the
            # public status page), files taken into production per day (the backlog).
            models.Index(fields=["to_status", "at"], name="file_event_to_status_at"),
        ]

    def __str__(self) -> str:
        return f"{self.file_id}: {self.from_status or '∅'} → {self.to_status}"


class BacklogSnapshot(models.Model):
    """The backlog of one office at the top of one hour (production.backlog_snapshot_take,
    hourly by beat): the history drawn on the backlog dashboard. For a centre, the files it
    produces; for a mission, the files enrolled there."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("bureau")
    )
    taken_at = models.DateTimeField(_("heure"))
    on_hold = models.PositiveIntegerField(_("mis en attente"), default=0)
    enrolled = models.PositiveIntegerField(_("dossiers reçus"), default=0)
    queued = models.PositiveIntegerField(_("en attente de production"), default=0)
    in_production = models.PositiveIntegerField(_("en production"), default=0)

    class Meta:
        verbose_name = _("relevé de l’arriéré")
        verbose_name_plural = _("relevés de l’arriéré")
        ordering = ["office", "taken_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "taken_at"], name="backlog_snapshot_one_per_office_hour"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.taken_at:%Y-%m-%d %H:%M} ({self.backlog})"

    @property
    def backlog(self) -> int:
        return self.on_hold + self.enrolled + self.queued


class FileView(models.Model):
    """A member of staff saw a file's identity data (its page, a list, an export, the API):
    who, which file, when, how. Append-only (a trigger refuses changes), for the ministry's
    administrators to read in the admin."""

    class Via(models.TextChoices):
        PAGE = "page", _("fiche du dossier")
        LIST = "list", _("liste des dossiers")
        EXPORT = "export", _("export CSV")
        API = "api", _("API")
        ADMIN = "admin", _("administration")

    file = models.ForeignKey(PassportFile, on_delete=models.PROTECT, related_name="views")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("qui")
    )
    via = models.CharField(_("par"), max_length=6, choices=Via.choices)
    at = models.DateTimeField(_("quand"), default=timezone.now)

    class Meta:
        verbose_name = _("consultation d’un dossier")
        verbose_name_plural = _("consultations des dossiers")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["file", "at"], name="file_view_file_at"),
            models.Index(fields=["user", "at"], name="file_view_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.file_id} ({self.via}, {self.at:%Y-%m-%d %H:%M})"
