"""Members of staff, their memberships and their second factor (`manage.py create_staff`, the
workspace's enrolment page, seed_demo)."""

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.errors import BadRequest
from core.models import EnrolmentCode, Membership, Office

from . import twofactor


class InvalidCode(BadRequest):
    code = "invalid_otp"
    default_detail = _("Code incorrect ou expiré. Saisissez le code affiché maintenant.")


def _totp_key(secret: str) -> str:
    try:
        return twofactor.secret_to_hex(secret)
    except ValueError:
        raise ValidationError(
            {
                "totp_secret": _(
                    "Secret TOTP invalide : du base32 (A-Z, 2-7) de %(min)s à %(max)s octets."
                )
                % {"min": twofactor.SECRET_MIN_BYTES, "max": twofactor.SECRET_MAX_BYTES}
            }
        ) from None


@transaction.atomic
def staff_upsert(
    *,
    username: str,
    password: str,
    role: str,
    office_codes: list[str],
    totp_secret: str | None = None,
) -> User:
    """Create or update a member of staff with exactly these memberships (idempotent).

    `admin` is the ministry's role for every office (no office may be given); every other
    role needs at least one office. The password must pass Django's password validators
    (AUTH_PASSWORD_VALIDATORS). With `totp_secret` (base32), the member logs in with a
    second factor from a device holding that secret (see `staff_totp_register`). Raises
    ValidationError for an unknown role or office, a weak password or a bad secret."""

    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Rôle inconnu : %(role)s.") % {"role": role}})
    offices = list(Office.objects.filter(code__in=office_codes))
    missing = sorted(set(office_codes) - {office.code for office in offices})
    if missing:
        raise ValidationError(
            {"office": _("Bureau inconnu : %(codes)s.") % {"codes": ", ".join(missing)}}
        )
    if (role == Membership.Role.ADMIN) == bool(offices):
        raise ValidationError(
            {"office": _("Un administrateur n’a pas de bureau ; les autres rôles en ont un.")}
        )
    key = _totp_key(totp_secret) if totp_secret is not None else None
    user = User.objects.filter(username=username).first() or User(username=username)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    if user.pk is None or not user.check_password(password) or not user.is_active:
        user.set_password(password)
        user.is_active = True
    user.is_staff = role == Membership.Role.ADMIN  # the Django admin is for the ministry only
    user.save()
    wanted = {(office.pk, role) for office in offices} or {(None, role)}
    current = {(m.office_id, m.role): m for m in Membership.objects.filter(user=user)}
    for membership_key, membership in current.items():
        if membership_key not in wanted:
            membership.delete()
    Membership.objects.bulk_create(
        [
            Membership(user=user, office_id=office_id, role=r)
            for office_id, r in wanted - set(current)
        ]
    )
    if key is not None:
        _register(user=user, key=key)
    return user


def _register(*, user: User, key: str) -> TOTPDevice:
    devices = list(TOTPDevice.objects.select_for_update().filter(user=user).order_by("pk"))
    keep = next((d for d in devices if d.key == key and d.confirmed), None)
    TOTPDevice.objects.filter(pk__in=[d.pk for d in devices if d is not keep]).delete()
    if keep is not None:
        return keep
    return TOTPDevice.objects.create(
        user=user, name=twofactor.DEVICE_NAME, key=key, confirmed=True
    )


@transaction.atomic
def staff_totp_register(*, user: User, secret: str) -> TOTPDevice:
    """Give this member of staff a confirmed device with this base32 secret, in place of any
    other (operations: `create_staff --totp-secret`; the demo). Idempotent: the same secret
    keeps its device, and with it the record of the last code used (never accepted twice).
    Raises ValidationError for a secret that is not base32 of 10 to 40 bytes."""
    return _register(user=user, key=_totp_key(secret))


# Enrolment codes: 12 characters without look-alikes (0/O, 1/I/L), about 59 bits: a code is
# not guessed within its hours, whatever the number of tries.
ENROLMENT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ENROLMENT_LENGTH = 12


class InvalidEnrolmentCode(BadRequest):
    code = "invalid_enrolment_code"
    default_detail = _(
        "Code d’enregistrement incorrect, expiré ou déjà utilisé. Demandez-en un nouveau à "
        "un administrateur du ministère."
    )


def _enrolment_digest(code: str) -> str:
    cleaned = re.sub(r"[\s-]", "", code or "").upper()
    return salted_hmac("appointments.enrolment", cleaned, algorithm="sha256").hexdigest()


@transaction.atomic
def staff_enrolment_code_issue(*, user: User, by: User | None = None) -> str:
    """A new one-time code with which `user` enrols an authenticator app, valid
    ENROLMENT_CODE_HOURS; any earlier unused code of theirs stops working. Only its keyed
    hash is kept: the code is shown once, to the administrator who gives it."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    EnrolmentCode.objects.filter(user=user, used_at__isnull=True).delete()
    code = "".join(secrets.choice(ENROLMENT_ALPHABET) for _ in range(ENROLMENT_LENGTH))
    now = timezone.now()
    EnrolmentCode.objects.create(
        user=user,
        digest=_enrolment_digest(code),
        issued_by=by,
        expires_at=now + timedelta(hours=settings.ENROLMENT_CODE_HOURS),
    )
    return "-".join(code[i : i + 4] for i in range(0, ENROLMENT_LENGTH, 4))


@transaction.atomic
def staff_totp_enrol(*, user: User, enrolment_code: str) -> TOTPDevice | None:
    """Use an enrolment code of this member of staff and give them a new device to enrol,
    with a random secret (any other pending device is dropped: its secret may have been
    seen). None once the member has a confirmed device (operations replace a lost one:
    `create_staff --totp-secret`, or delete it in the admin and issue a code). Raises
    InvalidEnrolmentCode for a code that is not theirs, expired or used: the conditional
    update lets one use only, of two at once."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one enrolment at a time
    if twofactor.confirmed_device(user) is not None:
        return None
    now = timezone.now()
    used = EnrolmentCode.objects.filter(
        user=user,
        digest=_enrolment_digest(enrolment_code),
        used_at__isnull=True,
        expires_at__gt=now,
    ).update(used_at=now)
    if not used:
        raise InvalidEnrolmentCode()
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=twofactor.DEVICE_NAME, confirmed=False)


def staff_totp_confirm(*, user: User, device_id: int | None, code: str) -> TOTPDevice:
    """Confirm the pending device given at enrolment (`device_id`, kept in the session that
    used the enrolment code) with the first code it shows; from then on the member logs in
    with its codes. Raises InvalidCode for a wrong or missing code (each wrong one makes
    the next try wait longer: django-otp's throttling)."""
    device = twofactor.pending_device(user, device_id)
    if device is None or not twofactor.check_code(device, code):
        raise InvalidCode()
    with transaction.atomic():
        # Conditional: of two confirmations racing, one confirms; the code itself is
        # accepted once only (check_code locks the device's row).
        TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True)
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device.refresh_from_db()
    return device
