from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from timezone_field import TimeZoneField

OFFICE_CODE_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


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

    class Meta:
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

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"

    @property
    def display_name(self) -> str:
        if self.name_en and (get_language() or "fr").startswith("en"):
            return self.name_en
        return self.name
