"""The date of birth as three plain fields, day, month and year, as GOV.UK asks it: typed
with the phone's number pad (`inputmode=numeric`), filled by the browser from the person's
details (`autocomplete=bday-day`, `bday-month`, `bday-year`), with a clear message for a
date left incomplete or impossible. A native date picker makes a person scroll back
decades. Used by the booking form and the tracking form alike."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import validation

# Each part: its suffix in the field's name, label, autocomplete token and width in digits.
PARTS = (
    ("day", _("Jour"), "bday-day", 2),
    ("month", _("Mois"), "bday-month", 2),
    ("year", _("Année"), "bday-year", 4),
)
MISSING = {
    "day": _("La date de naissance doit comprendre le jour."),
    "month": _("La date de naissance doit comprendre le mois."),
    "year": _("La date de naissance doit comprendre l’année."),
}
INCOMPLETE = _("La date de naissance doit comprendre le jour, le mois et l’année.")
NOT_A_DATE = _("La date de naissance doit être une vraie date, par exemple 27 3 1985.")
YEAR_DIGITS = _("L’année de naissance doit comporter 4 chiffres, par exemple 1985.")


class DatePartsWidget(forms.MultiWidget):
    """Three text inputs named <name>_day, <name>_month and <name>_year, each with its own
    label (the template is the app's: appointments/templates/appointments/widgets/), in a
    fieldset whose legend is the field's label (use_fieldset)."""

    template_name = "appointments/widgets/date_parts.html"

    def __init__(self, attrs: dict | None = None) -> None:
        widgets = {
            suffix: forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "autocomplete": token,
                    "class": f"date-part-{suffix}",
                    "size": width,
                    "spellcheck": "false",
                }
            )
            for suffix, _label, token, width in PARTS
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]

    def value_from_datadict(self, data, files, name):
        parts = super().value_from_datadict(data, files, name)
        whole = data.get(name)
        if not any(parts) and whole:  # YYYY-MM-DD, as a date picker or an older client sent it
            day = validation.parse_day(whole)
            return self.decompress(day) if day else ["?", "?", "?"]
        return parts

    def value_omitted_from_data(self, data, files, name) -> bool:
        return name not in data and super().value_omitted_from_data(data, files, name)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for part, (_suffix, label, _token, _width) in zip(
            context["widget"]["subwidgets"], PARTS, strict=True
        ):
            part["label"] = label
        return context


class BirthDateField(forms.MultiValueField):
    widget = DatePartsWidget

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Date de naissance"))
        kwargs.setdefault("help_text", _("Par exemple : 27 3 1985"))
        kwargs.setdefault("error_messages", {"required": _("Saisissez votre date de naissance.")})
        parts = tuple(forms.CharField(required=False, strip=True) for _part in PARTS)
        super().__init__(fields=parts, require_all_fields=False, **kwargs)

    def compress(self, data_list) -> date | None:
        values = [(value or "").strip() for value in [*data_list, "", "", ""][:3]]
        if not any(values):
            return None
        suffixes = [suffix for suffix, *_rest in PARTS]
        missing = [suffix for suffix, value in zip(suffixes, values, strict=True) if not value]
        if missing:
            raise ValidationError(MISSING[missing[0]] if len(missing) == 1 else INCOMPLETE)
        day, month, year = values
        if not all(value.isascii() and value.isdigit() for value in values):
            raise ValidationError(NOT_A_DATE, code="invalid")
        if len(year) != 4:
            raise ValidationError(YEAR_DIGITS, code="invalid_year")
        if len(day) > 2 or len(month) > 2:
            raise ValidationError(NOT_A_DATE, code="invalid")
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(NOT_A_DATE, code="invalid") from None
