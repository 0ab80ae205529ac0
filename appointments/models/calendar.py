"""Where and when applicants are received: the weekly opening hours of an office, its
closures, the suspensions of the service, and the slots booked in."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import Bilingual, Office


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
    """Days when an office (or every office, when `office` is empty) receives nobody: closed
    by an administrator, or a public holiday of the office's country (services/holidays.py),
    one closure per office and day."""

    class Source(models.TextChoices):
        ADMIN = "admin", _("fermeture décidée")
        HOLIDAY = "holiday", _("jour férié")

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
    source = models.CharField(
        _("origine"), max_length=10, choices=Source.choices, default=Source.ADMIN, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="closure_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(source__in=["admin", "holiday"]), name="closure_source_valid"
            ),
            # A holiday is one day of one office (its country's calendar)...
            models.CheckConstraint(
                condition=Q(source="admin")
                | Q(office__isnull=False, end_date=models.F("start_date")),
                name="closure_holiday_one_office_one_day",
            ),
            # ...closed once: the sync may run twice, or two at once, and create nothing more.
            models.UniqueConstraint(
                fields=["office", "start_date"],
                condition=Q(source="holiday"),
                name="closure_holiday_unique",
            ),
        ]

    display_reason = Bilingual("reason")

    def __str__(self) -> str:
        return f"{self.start_date}–{self.end_date}: {self.reason}"


class HolidayOverride(models.Model):
    """A public holiday on which an office stays open: an administrator removed its closure,
    and the holidays' sync (services/holidays.py) must not close the day again. Deleting
    this row gives the day back to the calendar (closed at the next sync)."""

    office = models.ForeignKey(
        Office,
        on_delete=models.CASCADE,
        related_name="holiday_overrides",
        verbose_name=_("bureau"),
    )
    date = models.DateField(_("jour"))
    name = models.CharField(_("jour férié"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("décidé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("jour férié maintenu ouvert")
        verbose_name_plural = _("jours fériés maintenus ouverts")
        ordering = ["date", "office"]
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="holiday_override_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.office.code} {self.date}: {self.name}"


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
