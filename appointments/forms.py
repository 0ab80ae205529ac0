from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.models import Office, applicant_language

from . import pacing, protection, validation
from .birth_date import BirthDateField
from .errors import NoChannelLeft
from .models import Appointment, Slot
from .services import Applicant

CHECK_NOT_DONE = _(
    "La vérification anti-robots n’a pas pu être faite. Patientez quelques minutes, puis "
    "envoyez à nouveau le formulaire."
)

# A proof of work or pacing token refused (forged, lapsed, used): the page is sent with a new
# token, and the browser's script renews its proof of work; sending again is enough.
CHECK_FAILED = _(
    "La vérification anti-robots a échoué ou a expiré. Envoyez à nouveau le formulaire : "
    "elle sera refaite."
)


class BookingForm(forms.Form):
    surname = forms.CharField(label=_("Nom"), max_length=100)
    given_names = forms.CharField(label=_("Prénoms"), max_length=150)
    birth_date = BirthDateField()
    national_id = forms.CharField(
        label=_("NINA ou numéro de passeport"),
        max_length=40,
        help_text=_("Le numéro de votre carte NINA, ou de votre passeport actuel."),
    )
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        help_text=_("La confirmation et le lien pour gérer le rendez-vous y seront envoyés."),
    )
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=30,
        help_text=_("Avec l’indicatif du pays, par exemple +223 76 12 34 56."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    language = forms.ChoiceField(
        label=_("Langue des messages"), choices=Appointment.Language.choices
    )
    consent = forms.BooleanField(
        label=_(
            "J’accepte que ces données soient utilisées pour traiter ma demande de passeport."
        ),
    )
    # The browser's proof of work (static/js/challenge.js), or else the server's pacing
    # token (pacing.py): a booking needs one of them.
    altcha = forms.CharField(
        required=False, max_length=protection.PAYLOAD_MAX_LENGTH, widget=forms.HiddenInput
    )
    pace = forms.CharField(
        required=False, max_length=pacing.TOKEN_MAX_LENGTH, widget=forms.HiddenInput
    )

    def __init__(self, *args, office: Office, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.office = office
        self.fields["language"].initial = applicant_language()
        self.fields["surname"].widget.attrs["autocomplete"] = "family-name"
        self.fields["given_names"].widget.attrs["autocomplete"] = "given-name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    def clean_surname(self) -> str:
        surname = " ".join(self.cleaned_data["surname"].split()).upper()
        if len(surname) > 100:  # upper case can lengthen a name ("ß" becomes "SS")
            raise ValidationError(_("Ce nom est trop long."), code="max_length")
        return surname

    def clean_given_names(self) -> str:
        return " ".join(self.cleaned_data["given_names"].split())

    def clean_birth_date(self):
        return validation.clean_birth_date(
            self.cleaned_data["birth_date"], today=validation.today()
        )

    def clean_national_id(self) -> str:
        return validation.clean_national_id(self.cleaned_data["national_id"])

    def clean_phone(self) -> str:
        return validation.clean_phone(self.cleaned_data["phone"], region=self.office.country.code)

    def clean(self) -> dict:
        data = super().clean()
        if settings.BOOKING_CHALLENGE and not data.get("altcha") and not data.get("pace"):
            self.add_error("altcha", CHECK_NOT_DONE)
        return data

    def applicant(self) -> Applicant:
        data = self.cleaned_data
        return Applicant(
            surname=data["surname"],
            given_names=data["given_names"],
            birth_date=data["birth_date"],
            national_id=data["national_id"],
            email=data["email"].strip().lower(),
            phone=data["phone"],
            language=data["language"],
        )


class DayBookingForm(BookingForm):
    """The booking form of a day's page: the time is chosen among the day's free ones
    (radio buttons, drawn by the page) in the same form as the applicant's details."""

    field_order = ["slot"]  # its errors first, as the page shows the times first
    slot = forms.IntegerField(
        label=_("Horaire"),
        min_value=1,
        max_value=2**63 - 1,
        error_messages={
            "required": _("Choisissez un horaire."),
            "invalid": _("Choisissez un horaire dans la liste."),
        },
    )

    def __init__(self, *args, day, **kwargs):
        super().__init__(*args, **kwargs)
        self.day = day

    def clean_slot(self) -> Slot:
        """The chosen slot, of this office and day (free or not: the booking says if it is
        full, with the next free times)."""
        slot = Slot.objects.filter(pk=self.cleaned_data["slot"], office=self.office).first()
        if slot is None or slot.starts_at.astimezone(self.office.timezone).date() != self.day:
            raise ValidationError(_("Choisissez un horaire dans la liste."), code="invalid")
        slot.office = self.office
        return slot


class NotificationsForm(forms.Form):
    """The channels of the applicant's messages (manage page): one at least stays on."""

    notify_email = forms.BooleanField(label=_("Recevoir les messages par e-mail"), required=False)
    notify_sms = forms.BooleanField(label=_("Recevoir les messages par SMS"), required=False)

    def __init__(self, *args, appointment: Appointment, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault(
            "initial",
            {"notify_email": appointment.notify_email, "notify_sms": appointment.notify_sms},
        )
        super().__init__(*args, **kwargs)
        self.fields["notify_email"].help_text = appointment.email
        self.fields["notify_sms"].help_text = appointment.phone

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("notify_email") and not data.get("notify_sms"):
            raise ValidationError(NoChannelLeft.default_detail, code="no_channel")
        return data


class ConfirmForm(forms.Form):
    """The 6-digit code that turns a pending booking into a booked one."""

    code = forms.CharField(
        label=_("Code reçu par SMS ou par e-mail"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise ValidationError(_("Saisissez les 6 chiffres du code reçu."), code="format")
        return code
