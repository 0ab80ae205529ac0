"""Two-factor authentication of staff (django-otp, TOTP): the device a member of staff proves
a code with, its secret as authenticator apps take it, and the check of a code.

Who must use it is the staff scope's rule (`access.two_factor_required`); the writes
(enrolment, confirmation, registration by operations) are in `core/services.py`.
"""

import binascii
import re
from base64 import b32decode, b32encode

import django_otp
import qrcode
import qrcode.image.svg
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "totp"
# Authenticator apps take secrets of 80 bits and more; TOTPDevice stores up to 40 bytes.
SECRET_MIN_BYTES = 10
SECRET_MAX_BYTES = 40
CODE_PATTERN = re.compile(r"\d{6}")


def confirmed_device(user) -> TOTPDevice | None:
    """The device this member of staff logs in with, once its first code was accepted."""
    if user is None or not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_device(user, device_id: int | None) -> TOTPDevice | None:
    """The device being enrolled (given by an enrolment code to the session that holds
    `device_id`): its secret is shown until a first code confirms it."""
    if device_id is None or user is None or not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, pk=device_id, confirmed=False).first()


def check_code(device: TOTPDevice, code: str | None) -> bool:
    """Whether `code` is the device's code of the moment (30-second steps, one step of
    tolerance either side). Each code is accepted once; wrong codes make the device wait
    longer and longer before the next try (django-otp's throttling). The device's row is
    locked during the check, so that one code never opens two sessions."""
    code = re.sub(r"\s", "", code or "")
    if not CODE_PATTERN.fullmatch(code):
        return False
    # django_otp.verify_token checks confirmed and unconfirmed devices alike (enrolment).
    return django_otp.verify_token(device.user, device.persistent_id, code) is not None


def secret_base32(device: TOTPDevice) -> str:
    """The device's secret as authenticator apps take it (base32, no padding)."""
    return b32encode(device.bin_key).decode().rstrip("=")


def secret_grouped(device: TOTPDevice) -> str:
    """The secret in groups of four, to type by hand."""
    secret = secret_base32(device)
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def secret_to_hex(secret: str) -> str:
    """A base32 secret (any case, spaces and padding optional) as TOTPDevice stores it (hex).
    Raises ValueError when it is not base32 or its length is out of bounds."""
    cleaned = re.sub(r"[\s=]", "", secret).upper()
    try:
        raw = b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("not base32") from None
    if not SECRET_MIN_BYTES <= len(raw) <= SECRET_MAX_BYTES:
        raise ValueError("length")
    return raw.hex()


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an SVG QR code, to show inline in the page (no
    image request, no third party)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=16
    )
    return image.to_string(encoding="unicode")
