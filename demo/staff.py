"""The demo's people: an administrator of the ministry, and staff at every office."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from appointments.services import staff_upsert

from .offices import CENTRES, OFFICE_CODES

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "premium-admin"  # noqa: S105 - demo only; seed_demo refuses to run in production
STAFF_PASSWORD = "premium-demo"  # noqa: S105 - demo only


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


def seed_administrator() -> Credential:
    """The superuser of the Django admin, with its published password (idempotent)."""
    User = get_user_model()
    user = User.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        User.objects.create_superuser(ADMIN_USERNAME, "admin@example.org", ADMIN_PASSWORD)
    elif not (user.is_superuser and user.is_active and user.check_password(ADMIN_PASSWORD)):
        user.is_superuser = user.is_staff = user.is_active = True
        user.set_password(ADMIN_PASSWORD)
        user.save(update_fields=["is_superuser", "is_staff", "is_active", "password"])
    return Credential(role="administrateur", username=ADMIN_USERNAME, password=ADMIN_PASSWORD)


def seed_staff() -> list[Credential]:
    """Every member of STAFF with exactly one membership (idempotent)."""
    credentials = []
    for username, role, office in STAFF:
        staff_upsert(username=username, password=STAFF_PASSWORD, role=role, office_codes=[office])
        credentials.append(
            Credential(role=f"{role} {office}", username=username, password=STAFF_PASSWORD)
        )
    return credentials
