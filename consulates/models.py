from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appointments.models import Office, Weekday
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
