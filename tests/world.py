"""The world of the generated access matrices: two missions abroad, each produced by a
centre of its own in Mali (Bamako produces the passports of Paris, Kayes those of Dakar),
a member of staff of each kind, and at each mission an appointment and a passport file that
the staff of the other must never reach."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.utils import timezone

from appointments.models import Appointment
from appointments.tests.factories import MembershipFactory, book, paris_consulate
from consulates.models import Mission
from consulates.tests.factories import MissionFactory
from core.models import Office
from production.models import PassportFile
from production.tests.factories import CentreFactory, PassportFileFactory

# The offices whose objects the matrices reach for.
OFFICES = ["paris", "dakar"]
# persona: (role, office of the membership; None for the ministry's administrator).
PERSONAS = {
    "agent_paris": ("agent", "paris"),
    "supervisor_paris": ("supervisor", "paris"),
    "agent_dakar": ("agent", "dakar"),
    "operator_bamako": ("operator", "bamako"),
    "operator_kayes": ("operator", "kayes"),
    "admin": ("admin", None),
}
# Who works at the counter of each office (appointments), and who sees its files.
COUNTER = {
    "paris": {"agent_paris", "supervisor_paris", "admin"},
    "dakar": {"agent_dakar", "admin"},
}
FILES = {
    "paris": {"agent_paris", "supervisor_paris", "operator_bamako", "admin"},
    "dakar": {"agent_dakar", "operator_kayes", "admin"},
}
# Who may put an enrolled file on hold (production.transitions).
MAY_HOLD = {"supervisor_paris", "admin"}
# Who ships each mission's pouch (the operators of its centre); its counter receives it.
POUCH_SENDERS = {
    "paris": {"operator_bamako", "admin"},
    "dakar": {"operator_kayes", "admin"},
}
# Whose figures each persona finds on the backlog dashboard (page and API), by office:
# supervisors those of the offices they supervise, administrators every office's; nobody
# else reaches the dashboard (403).
BACKLOG = {
    "paris": {"supervisor_paris", "admin"},
    "dakar": {"admin"},
    "bamako": {"admin"},
    "kayes": {"admin"},
}


@dataclass(frozen=True)
class Target:
    """What a mission holds: a booked appointment (surname RDV<OFFICE>) and an enrolled
    file (surname DOSSIER<OFFICE>)."""

    office: Office
    appointment: Appointment
    file: PassportFile
    starts_at: datetime  # the appointment's


@dataclass(frozen=True)
class World:
    offices: dict[str, Office]  # paris, dakar, bamako, kayes
    missions: dict[str, Mission]  # paris, dakar
    users: dict[str, User]  # by persona
    targets: dict[str, Target]  # by name in OFFICES

    def hidden_from(self, persona: str) -> list[str]:
        """What this persona must never read: the appointments of the offices they do not
        work at, the files of the offices they do not see."""
        hidden = []
        for name, target in self.targets.items():
            if persona not in COUNTER[name]:
                appointment = target.appointment
                hidden += [appointment.reference, appointment.surname, appointment.national_id]
            if persona not in FILES[name]:
                hidden += [target.file.reference, target.file.surname, target.file.national_id]
        return hidden


def build_world() -> World:
    bamako = CentreFactory(office__code="bko-centre")
    kayes = CentreFactory(office__code="kayes-centre", office__city="Kayes")
    missions = {
        "paris": MissionFactory(office=paris_consulate(), centre=bamako),
        "dakar": MissionFactory(
            office__code="dakar-consulat",
            office__country="SN",
            office__timezone=ZoneInfo("Africa/Dakar"),
            centre=kayes,
        ),
    }
    offices = {
        "paris": missions["paris"].office,
        "dakar": missions["dakar"].office,
        "bamako": bamako.office,
        "kayes": kayes.office,
    }
    targets = {}
    for name in OFFICES:
        mission = missions[name]
        start = timezone.now() + timedelta(days=2)
        appointment, _token = book(mission.office, start, surname=f"RDV{name.upper()}")
        file = PassportFileFactory(
            office=mission.office, centre=mission.centre, surname=f"DOSSIER{name.upper()}"
        )
        targets[name] = Target(mission.office, appointment, file, start)
    users = {
        persona: MembershipFactory(
            user__username=persona, role=role, office=offices.get(office)
        ).user
        for persona, (role, office) in PERSONAS.items()
    }
    return World(offices=offices, missions=missions, users=users, targets=targets)
