from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appointments.models import Weekday
from core.models import Office
from production.models import Centre


class Mission(models.Model):
    """The consular side of an office of kind `mission` (an embassy or a consulate)."""

    office = models.OneToOneField(
        Office, on_delete=models.PROTECT, related_name="mission", verbose_name=_("bureau")
    )
    # Always "mission": with office_id it forms a foreign key to (Office.id, Office.kind)
    # (migration 0002), so the database refuses a Mission on a production centre.
    office_kind = models.CharField(max_length=10, default=Office.Kind.MISSION, editable=False)
    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        related_name="missions",
        verbose_name=_("centre de production"),
        help_text=_("Le centre qui produit les passeports de cette mission."),
    )
    pouch_weekdays = ArrayField(
        models.PositiveSmallIntegerField(choices=Weekday.choices),
        verbose_name=_("jours de valise diplomatique"),
        default=list,
        blank=True,
    )

    class Meta:
        verbose_name = _("mission diplomatique")
        verbose_name_plural = _("missions diplomatiques")
        constraints = [
            models.CheckConstraint(
                condition=Q(pouch_weekdays__contained_by=list(Weekday.values)),
                name="mission_pouch_weekdays_valid",
            ),
            models.CheckConstraint(condition=Q(office_kind="mission"), name="mission_office_kind"),
        ]

    def __str__(self) -> str:
        return str(self.office)

    def clean(self) -> None:
        if self.office_id and self.office.kind != Office.Kind.MISSION:
            raise ValidationError(
                {"office": _("Une mission doit être un bureau de type mission.")}
            )

    @property
    def pouch_weekday_labels(self) -> list[str]:
        return [Weekday(day).label for day in sorted(self.pouch_weekdays)]


class Shipment(models.Model):
    """A diplomatic pouch carrying a mission's passports from the centre that made them."""

    class Status(models.TextChoices):
        SENT = "sent", _("expédiée")
        RECEIVED = "received", _("reçue")
        INCOMPLETE = "incomplete", _("reçue incomplète")

    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="shipments")
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.SENT
    )
    expected_count = models.PositiveIntegerField(_("passeports expédiés"))
    received_count = models.PositiveIntegerField(_("passeports reçus"), null=True, blank=True)
    sent_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("valise diplomatique")
        verbose_name_plural = _("valises diplomatiques")
        ordering = ["-sent_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["sent", "received", "incomplete"]),
                name="shipment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(received_count__isnull=True)
                | Q(received_count__lte=models.F("expected_count")),
                name="shipment_received_at_most_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mission} ← {self.centre} ({self.sent_at:%Y-%m-%d})"


class ShipmentItem(models.Model):
    """One passport in a pouch; `received` stays empty until the mission opens the pouch,
    and is False for a passport that was not in it (flagged, never silently lost)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="items")
    file = models.ForeignKey(
        "production.PassportFile", on_delete=models.PROTECT, related_name="shipment_items"
    )
    received = models.BooleanField(null=True, blank=True)

    class Meta:
        verbose_name = _("passeport de la valise")
        verbose_name_plural = _("passeports de la valise")
        constraints = [
            models.UniqueConstraint(fields=["shipment", "file"], name="shipment_item_unique"),
            # A passport travels in one pouch at a time.
            models.UniqueConstraint(
                fields=["file"],
                condition=Q(received__isnull=True),
                name="shipment_item_one_open_per_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.file_id}"
