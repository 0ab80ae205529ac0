"""Validation and normalisation of what applicants type, shared by the forms and the API."""

import re
from datetime import date, datetime

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from core.sms import sms_countries

# A phone number as the database accepts it (Appointment's check `appointment_phone_e164`).
E164_PATTERN = re.compile(r"^\+[1-9][0-9]{6,14}$")
IDENTITY_PATTERN = re.compile(r"^[A-Z0-9]{6,20}$")
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B
REFERENCE_PATTERN = re.compile(rf"^[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}$")
# The longest reference worth reading (a file number is 12 characters with its hyphen).
REFERENCE_MAX_LENGTH = 20
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
    """A phone number in E.164 (+22370123456), of a country SMS go to (sms_allowed): every
    number an applicant gives is one the portal sends SMS to. Without +, it is read in the
    office's country."""
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
    if phonenumbers.region_code_for_number(number) not in sms_countries():
        names = sorted(str(countries.name(code)) for code in sms_countries())
        raise ValidationError(
            _(
                "Les SMS ne partent que vers les numéros de ces pays : %(countries)s. "
                "Saisissez un numéro de l’un d’eux ; tous les messages vous parviennent aussi "
                "par e-mail."
            )
            % {"countries": ", ".join(names)},
            code="sms_country",
        )
    return e164


# Providers whose mailboxes answer to several spellings: the ones a bot would use to hold many
# seats with one mailbox. Sub-addresses (a tag after "+", or "-" at Yahoo) reach the same
# mailbox everywhere listed; Gmail also ignores dots, and Proton dots, hyphens and underscores.
_GMAIL = {"gmail.com", "googlemail.com"}
_PROTON = {"proton.me", "protonmail.com", "protonmail.ch", "pm.me"}
_PLUS_TAGS = {
    *_GMAIL,
    *_PROTON,
    "outlook.com",
    "outlook.fr",
    "hotmail.com",
    "hotmail.fr",
    "live.com",
    "live.fr",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "fastmail.com",
}


def email_key(address: str) -> str:
    """The mailbox an address reaches, as the bound of one pending hold per mailbox counts
    it: case and spaces do not matter; at the large providers neither do sub-addresses
    (name+tag@, name-tag@yahoo) nor, at Gmail, dots (a.b@gmail.com is ab@gmail.com)."""
    local, _at, domain = "".join((address or "").split()).lower().rpartition("@")
    if not local:
        return domain
    if domain in _PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain.startswith("yahoo.") or domain.startswith("ymail."):
        local = local.split("-", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    if domain in _PROTON:
        local = re.sub(r"[._\-]", "", local)
    return f"{local}@{domain}"


def today() -> date:
    """Today in the portal's timezone (TIME_ZONE; no request activates another), read without
    timezone.localdate(): its look-up of an activated timezone raises and catches an
    exception inside asgiref on every call, 3% of a booking's CPU (py-spy on the workers,
    bench/booking_rush.py)."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def clean_birth_date(value: date, *, today: date) -> date:
    if value > today:
        raise ValidationError(_("La date de naissance est dans le futur."), code="future")
    if value.year < today.year - 120:
        raise ValidationError(_("Vérifiez l’année de naissance."), code="too_old")
    return value


def clean_reference(value: str) -> str:
    """A reference as typed or scanned, the one reading of it for every page and endpoint
    (booking, manage, counter, tracking): spaces, case and hyphens do not matter. A booking
    reference (8 characters) comes back as ACDE-FGHJ, a passport file number (D and 10) as
    DACDEF-GHJKM; anything else comes back without its spaces, in capitals, at most
    REFERENCE_MAX_LENGTH characters (found if something is numbered so)."""
    compact = re.sub(r"\s", "", value or "").upper()[:REFERENCE_MAX_LENGTH]
    bare = compact.replace("-", "")
    if len(bare) == 8:
        return f"{bare[:4]}-{bare[4:]}"
    if len(bare) == 11 and bare.startswith("D"):
        return f"{bare[:6]}-{bare[6:]}"
    return compact
