"""Members of staff, their memberships and their second factor (`manage.py create_staff`, the
workspace's enrolment page, seed_demo)."""

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from epassport.errors import BadRequest

from .. import twofactor
from ..models import Membership, Office


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


@transaction.atomic
def staff_totp_enrol(*, user: User) -> TOTPDevice | None:
    """The device to enrol from the workspace: the pending one, so that every visit shows the
    same secret (an app that scanned it keeps working), or a new one with a random secret.
    None to enrol once the member has a confirmed device (operations replace a lost one:
    `create_staff --totp-secret`, or delete it in the admin to let its owner enrol again)."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one enrolment at a time
    if twofactor.confirmed_device(user) is not None:
        return None
    device = twofactor.pending_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=twofactor.DEVICE_NAME, confirmed=False)
    return device


def staff_totp_confirm(*, user: User, code: str) -> TOTPDevice:
    """Confirm the pending device with the first code it shows; from then on the member logs
    in with its codes. Raises InvalidCode for a wrong or missing code (each wrong one makes
    the next try wait longer: django-otp's throttling)."""
    device = twofactor.pending_device(user)
    if device is None or not twofactor.check_code(device, code):
        raise InvalidCode()
    with transaction.atomic():
        # Conditional: of two confirmations racing, one confirms; the code itself is
        # accepted once only (check_code locks the device's row).
        TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True)
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device.refresh_from_db()
    return device
