"""Validation and normalisation of what applicants type, shared by the forms and the API."""

import re
from datetime import date, datetime

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A phone number as the database accepts it (Appointment's check `appointment_phone_e164`).
E164_PATTERN = re.compile(r"^\+[1-9][0-9]{6,14}$")
IDENTITY_PATTERN = re.compile(r"^[A-Z0-9]{6,20}$")
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B
REFERENCE_PATTERN = re.compile(rf"^[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}$")
# Every date a page, a form or the API accepts lies between these: a date outside is a typing
# mistake, and near the ends of Python's calendar it would overflow once moved to a timezone
# (9999-12-31 plus a day).
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2100, 12, 31)


def within_calendar(value: date | datetime | None) -> None:
    """A validator (forms, admin, DRF): refuses a date or time outside FIRST_DATE-LAST_DATE."""
    if value is None:
        return
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValidationError(
            _("Cette date est hors de la période acceptée."), code="out_of_calendar"
        )


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD date from an address or a query string; None when malformed or out of
    the calendar's bounds."""
    try:
        day = date.fromisoformat(value or "")
    except (TypeError, ValueError):
        return None
    return day if FIRST_DATE <= day <= LAST_DATE else None


def clean_national_id(value: str) -> str:
    """NINA or passport number: upper case, without spaces, dots or hyphens."""
    normalised = re.sub(r"[\s.\-/]", "", value or "").upper()
    if not IDENTITY_PATTERN.match(normalised):
        raise ValidationError(
            _("Saisissez votre NINA ou votre numéro de passeport (6 à 20 lettres et chiffres)."),
            code="invalid_identity",
        )
    return normalised


def clean_phone(value: str, *, region: str | None = None) -> str:
    """A phone number in E.164 (+22370123456). Without +, it is read in the office's country."""
    try:
        number = phonenumbers.parse(value or "", region)
    except phonenumbers.NumberParseException:
        number = None
    e164 = ""
    if number is not None and phonenumbers.is_valid_number(number):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # A few valid numbers (e.g. Iranian voicemail +989601) are shorter than the database's
    # check allows: refused as invalid here rather than failing on insert.
    if not E164_PATTERN.match(e164):
        raise ValidationError(
            _("Saisissez un numéro de téléphone valide, avec l’indicatif du pays (+223…)."),
            code="invalid_phone",
        )
    return e164


def clean_birth_date(value: date, *, today: date) -> date:
    if value > today:
        raise ValidationError(_("La date de naissance est dans le futur."), code="future")
    if value.year < today.year - 120:
        raise ValidationError(_("Vérifiez l’année de naissance."), code="too_old")
    return value


def clean_reference(value: str) -> str:
    """Accepts a reference typed or scanned with spaces, lower case or without its hyphen."""
    compact = re.sub(r"[\s\-]", "", value or "").upper()
    formatted = f"{compact[:4]}-{compact[4:]}"
    if not REFERENCE_PATTERN.match(formatted):
        raise ValidationError(_("Référence inconnue."), code="invalid_reference")
    return formatted
