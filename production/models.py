from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appointments.models import Office


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
