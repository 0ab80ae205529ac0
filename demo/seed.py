"""The demo's reference state: offices in Mali and abroad, an administrator, staff, files.

Used by `manage.py seed_demo` (and so by `make run`); every step is idempotent, so running it
again brings the demo back to this state without duplicating anything. Later features add
their own steps to `seed()`.
"""

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction

from appointments.services import office_upsert, opening_hours_set, slots_generate
from consulates.services import mission_upsert
from production.services import centre_upsert

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "premium-admin"  # noqa: S105 - demo only; seed_demo refuses to run in production

CENTRES = [
    {
        "code": "bko-centre",
        "name": "Centre de production des passeports de Bamako",
        "name_en": "Bamako passport production centre",
        "city": "Bamako",
        "address": "Direction générale de la police nationale, ACI 2000, Bamako",
        "daily_capacity": 400,
        "counters": 6,
    },
    {
        "code": "sikasso-centre",
        "name": "Centre de production des passeports de Sikasso",
        "name_en": "Sikasso passport production centre",
        "city": "Sikasso",
        "address": "Quartier Wayerma, Sikasso",
        "daily_capacity": 120,
        "counters": 3,
    },
    {
        "code": "kayes-centre",
        "name": "Centre de production des passeports de Kayes",
        "name_en": "Kayes passport production centre",
        "city": "Kayes",
        "address": "Quartier Plateau, Kayes",
        "daily_capacity": 100,
        "counters": 2,
    },
]

MISSIONS = [
    {
        "code": "paris-consulat",
        "name": "Consulat général du Mali à Paris",
        "name_en": "Consulate General of Mali in Paris",
        "city": "Paris",
        "country": "FR",
        "timezone": "Europe/Paris",
        "address": "64 rue de Prony, 75017 Paris",
        "centre": "bko-centre",
        "pouch_weekdays": [1, 3],
        "counters": 3,
    },
    {
        "code": "abidjan-consulat",
        "name": "Consulat général du Mali à Abidjan",
        "name_en": "Consulate General of Mali in Abidjan",
        "city": "Abidjan",
        "country": "CI",
        "timezone": "Africa/Abidjan",
        "address": "Plateau, avenue Lamblin, Abidjan",
        "centre": "sikasso-centre",
        "pouch_weekdays": [2],
        "counters": 2,
    },
    {
        "code": "dakar-consulat",
        "name": "Consulat général du Mali à Dakar",
        "name_en": "Consulate General of Mali in Dakar",
        "city": "Dakar",
        "country": "SN",
        "timezone": "Africa/Dakar",
        "address": "Avenue Cheikh Anta Diop, Fann, Dakar",
        "centre": "kayes-centre",
        "pouch_weekdays": [0, 3],
        "counters": 2,
    },
    {
        "code": "washington-ambassade",
        "name": "Ambassade du Mali à Washington",
        "name_en": "Embassy of Mali in Washington",
        "city": "Washington",
        "country": "US",
        "timezone": "America/New_York",
        "address": "2130 R Street NW, Washington, DC 20008",
        "centre": "bko-centre",
        "pouch_weekdays": [4],
        "counters": 2,
    },
]


@dataclass(frozen=True)
class Credential:
    role: str
    username: str
    password: str


@transaction.atomic
def seed() -> list[Credential]:
    """Bring the demo data to its reference state; returns the logins to print."""
    centres = {}
    for spec in CENTRES:
        office = office_upsert(
            code=spec["code"],
            name=spec["name"],
            name_en=spec["name_en"],
            kind="centre",
            city=spec["city"],
            country="ML",
            timezone=ZoneInfo("Africa/Bamako"),
            address=spec["address"],
            active=True,
        )
        centres[spec["code"]] = centre_upsert(office=office, daily_capacity=spec["daily_capacity"])
        _opening_hours(office, counters=spec["counters"])
    for spec in MISSIONS:
        office = office_upsert(
            code=spec["code"],
            name=spec["name"],
            name_en=spec["name_en"],
            kind="mission",
            city=spec["city"],
            country=spec["country"],
            timezone=ZoneInfo(spec["timezone"]),
            address=spec["address"],
            active=True,
        )
        mission_upsert(
            office=office, centre=centres[spec["centre"]], pouch_weekdays=spec["pouch_weekdays"]
        )
        _opening_hours(office, counters=spec["counters"])
    slots_generate(days=60)
    credentials = [_administrator(), *_staff()]
    _passport_files()
    return credentials


def _opening_hours(office, *, counters: int) -> None:
    """Monday to Friday, morning and afternoon, 15-minute slots (idempotent)."""
    opening_hours_set(
        office=office,
        weekdays=[0, 1, 2, 3, 4],
        periods=[(time(8, 0), time(12, 30)), (time(14, 0), time(16, 30))],
        slot_minutes=15,
        counters=counters,
    )


def _administrator() -> Credential:
    User = get_user_model()
    user = User.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        User.objects.create_superuser(ADMIN_USERNAME, "admin@example.org", ADMIN_PASSWORD)
    elif not (user.is_superuser and user.is_active and user.check_password(ADMIN_PASSWORD)):
        user.is_superuser = user.is_staff = user.is_active = True
        user.set_password(ADMIN_PASSWORD)
        user.save(update_fields=["is_superuser", "is_staff", "is_active", "password"])
    return Credential(role="administrateur", username=ADMIN_USERNAME, password=ADMIN_PASSWORD)


STAFF_PASSWORD = "premium-demo"  # noqa: S105 - demo only

# (username, role, office) of the demo staff: counter agents and supervisors at every
# office, production operators at the centres.
STAFF = [
    *[
        (f"agent.{code.split('-')[0]}", "agent", code)
        for code in [
            "bko-centre",
            "sikasso-centre",
            "kayes-centre",
            "paris-consulat",
            "abidjan-consulat",
            "dakar-consulat",
            "washington-ambassade",
        ]
    ],
    *[
        (f"superviseur.{code.split('-')[0]}", "supervisor", code)
        for code in ["bko-centre", "paris-consulat", "dakar-consulat"]
    ],
    *[
        (f"operateur.{code.split('-')[0]}", "operator", code)
        for code in ["bko-centre", "sikasso-centre", "kayes-centre"]
    ],
]


def _staff() -> list[Credential]:
    from appointments.services import staff_upsert

    credentials = []
    for username, role, office in STAFF:
        staff_upsert(username=username, password=STAFF_PASSWORD, role=role, office_codes=[office])
        credentials.append(
            Credential(role=f"{role} {office}", username=username, password=STAFF_PASSWORD)
        )
    return credentials


DEMO_FILES = 2000
SURNAMES = [
    "TRAORÉ",
    "COULIBALY",
    "DIARRA",
    "KEITA",
    "SANGARÉ",
    "TOURÉ",
    "CISSÉ",
    "KONATÉ",
    "DEMBÉLÉ",
    "MAÏGA",
    "SIDIBÉ",
    "DOUMBIA",
    "BALLO",
    "SISSOKO",
    "CAMARA",
    "KANTÉ",
]
GIVEN_NAMES = [
    "Aminata",
    "Moussa",
    "Fatoumata",
    "Boubacar",
    "Mariam",
    "Seydou",
    "Awa",
    "Ibrahim",
    "Kadiatou",
    "Oumar",
    "Hawa",
    "Mamadou",
    "Djénéba",
    "Adama",
]
PATH_CENTRE = ["enrolled", "queued", "in_production", "quality_check", "ready", "delivered"]
PATH_MISSION = [
    "enrolled",
    "queued",
    "in_production",
    "quality_check",
    "in_transit",
    "ready",
    "delivered",
]


def _passport_files() -> None:
    """About 2,000 files over every status, with their event history. Created once (the
    demo files are recognised by their reference prefix); deterministic."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from appointments.models import Office
    from production.models import FileEvent, PassportFile
    from production.services import premium_due_date, producing_centre

    if PassportFile.objects.filter(reference__startswith="DDEMO").exists():
        return
    rng = random.Random(2025_11_24)
    offices = list(Office.objects.filter(active=True).order_by("code"))
    centres = {office.pk: producing_centre(office=office) for office in offices}
    now = timezone.now()
    files, histories = [], []
    for number in range(DEMO_FILES):
        office = offices[number % len(offices)]
        path = PATH_MISSION if office.kind == "mission" else PATH_CENTRE
        roll = rng.random()
        if roll < 0.04:
            statuses = ["enrolled", "on_hold"]
        elif roll < 0.08:
            statuses = [*path[: rng.randint(1, 4)], "rejected"]
        else:
            statuses = path[: rng.randint(1, len(path))]
        enrolled_at = now - timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 600))
        files.append(
            PassportFile(
                reference=f"DDEMO-{number:05d}",
                office=office,
                centre=centres[office.pk],
                status=statuses[-1],
                surname=rng.choice(SURNAMES),
                given_names=rng.choice(GIVEN_NAMES),
                national_id=f"DEMO{number:011d}",
                due_date=premium_due_date(office=office, enrolled_on=enrolled_at.date()),
                rejection_reason="Pièce d’état civil illisible"
                if statuses[-1] == "rejected"
                else "",
            )
        )
        histories.append((enrolled_at, statuses))
    PassportFile.objects.bulk_create(files, batch_size=1000)
    events = []
    for file, (enrolled_at, statuses) in zip(files, histories, strict=True):
        previous = ""
        for step, status in enumerate(statuses):
            events.append(
                FileEvent(
                    file=file,
                    from_status=previous,
                    to_status=status,
                    at=enrolled_at + timedelta(hours=6 * step),
                )
            )
            previous = status
    FileEvent.objects.bulk_create(events, batch_size=2000)
