"""The demo's offices: production centres in Mali, missions abroad, their opening hours."""

from datetime import time
from zoneinfo import ZoneInfo

from appointments.services import office_upsert, opening_hours_set
from consulates.services import mission_upsert
from core.models import Office
from production.services import centre_upsert

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

OFFICE_CODES = [spec["code"] for spec in [*CENTRES, *MISSIONS]]


def seed_offices() -> None:
    """The centres, then the missions attached to them, as above (idempotent)."""
    centres = {}
    for spec in CENTRES:
        office = _office(spec, kind=Office.Kind.CENTRE)
        centres[spec["code"]] = centre_upsert(office=office, daily_capacity=spec["daily_capacity"])
    for spec in MISSIONS:
        office = _office(spec, kind=Office.Kind.MISSION)
        mission_upsert(
            office=office, centre=centres[spec["centre"]], pouch_weekdays=spec["pouch_weekdays"]
        )


def _office(spec: dict, *, kind: str) -> Office:
    """The office of a spec (a centre is in Mali, on Bamako's time), open as below."""
    office = office_upsert(
        code=spec["code"],
        name=spec["name"],
        name_en=spec["name_en"],
        kind=kind,
        city=spec["city"],
        country=spec.get("country", "ML"),
        timezone=ZoneInfo(spec.get("timezone", "Africa/Bamako")),
        address=spec["address"],
        active=True,
    )
    _opening_hours(office, counters=spec["counters"])
    return office


def _opening_hours(office: Office, *, counters: int) -> None:
    """Monday to Friday, morning and afternoon, 15-minute slots (idempotent)."""
    opening_hours_set(
        office=office,
        weekdays=[0, 1, 2, 3, 4],
        periods=[(time(8, 0), time(12, 30)), (time(14, 0), time(16, 30))],
        slot_minutes=15,
        counters=counters,
    )
