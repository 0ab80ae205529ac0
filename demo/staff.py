"""The demo's people: an administrator of the ministry, and staff at every office."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from core.services import staff_totp_register, staff_upsert

from .offices import CENTRES, OFFICE_CODES

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "premium-admin"  # noqa: S105 - demo only; seed_demo refuses to run in production
STAFF_PASSWORD = "premium-demo"  # noqa: S105 - demo only
# The authenticator secret of the demo's administrator and supervisors (base32, 20 bytes),
# published like their passwords: add it to an authenticator app, or compute the code of
# the moment with TOTP_CODE_COMMAND.
DEMO_TOTP_SECRET = "PREMIUMDEMOSECRETTOTPMALIAESPASS"  # noqa: S105 - demo only
TOTP_CODE_COMMAND = (
    '.venv/bin/python -c "from base64 import b32decode; from django_otp.oath import totp; '
    f"print('%06d' % totp(b32decode('{DEMO_TOTP_SECRET}')))\""
)


def _login(role: str, office_code: str) -> str:
    return f"{role}.{office_code.split('-')[0]}"  # agent.bko, superviseur.paris, ...


# (username, role, office) of the demo staff: counter agents at every office, supervisors at
# some, production operators at the centres.
STAFF = [
    *[(_login("agent", code), "agent", code) for code in OFFICE_CODES],
    *[
        (_login("superviseur", code), "supervisor", code)
        for code in ["bko-centre", "paris-consulat", "dakar-consulat"]
    ],
    *[(_login("operateur", spec["code"]), "operator", spec["code"]) for spec in CENTRES],
]


@dataclass(frozen=True)
class Credential:
    role: str
    username: str
    password: str
    totp_secret: str | None = None  # for those who log in with a second factor


def seed_administrator() -> Credential:
    """The superuser of the Django admin, with its published password (idempotent)."""
    User = get_user_model()
    user = User.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        user = User.objects.create_superuser(ADMIN_USERNAME, "admin@example.org", ADMIN_PASSWORD)
    elif not (user.is_superuser and user.is_active and user.check_password(ADMIN_PASSWORD)):
        user.is_superuser = user.is_staff = user.is_active = True
        user.set_password(ADMIN_PASSWORD)
        user.save(update_fields=["is_superuser", "is_staff", "is_active", "password"])
    # The admin site and the workspace ask an administrator for the second factor.
    staff_totp_register(user=user, secret=DEMO_TOTP_SECRET)
    return Credential(
        role="administrateur",
        username=ADMIN_USERNAME,
        password=ADMIN_PASSWORD,
        totp_secret=DEMO_TOTP_SECRET,
    )


def seed_staff() -> list[Credential]:
    """Every member of STAFF with exactly one membership (idempotent)."""
    credentials = []
    for username, role, office in STAFF:
        # Supervisors log in with a second factor (core.access.two_factor_required).
        secret = DEMO_TOTP_SECRET if role == "supervisor" else None
        staff_upsert(
            username=username,
            password=STAFF_PASSWORD,
            role=role,
            office_codes=[office],
            totp_secret=secret,
        )
        credentials.append(
            Credential(
                role=f"{role} {office}",
                username=username,
                password=STAFF_PASSWORD,
                totp_secret=secret,
            )
        )
    return credentials
