"""About 2,000 demo passport files in every status, each with its history of events: the
moves into production are the backlog dispatcher's, in each centre's daily batches on its
past working days (demo/dispatches.py)."""

import random
from datetime import date

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from core.access import staff_scope
from core.models import Office
from production import transitions
from production.backlog import DISPATCH_NOTE
from production.models import FileStatus, PassportFile
from production.selectors import roles_for_file
from production.services import premium_due_date, producing_centre

from . import dispatches
from .histories import reachable, walk
from .staff import STAFF

DEMO_FILES = 2000
REFERENCE_PREFIX = "DDEMO"  # how the demo files are recognised
# Every demo file's applicant was born that day: try /suivi/ with DDEMO-00001 and this date.
DEMO_BIRTH_DATE = date(1990, 1, 1)
REJECTION_REASON = "Pièce d’état civil illisible"

# How often files end in each status (relative weights; a status the office's kind cannot
# reach is skipped).
WEIGHTS = {FileStatus.ON_HOLD: 1, FileStatus.REJECTED: 1}
USUAL_WEIGHT = 3

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

# Written in SQL because the ORM would stamp every row with the moment of seeding
# (auto_now_add, auto_now); the demo's dates are those of each file's history. Events are
# append-only, so they are inserted with their dates rather than corrected afterwards.
_DATE_FILES = """
    UPDATE production_passportfile AS f
    SET created_at = d.created_at, updated_at = d.updated_at
    FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[])
        AS d(id, created_at, updated_at)
    WHERE f.id = d.id
"""
_INSERT_EVENTS = """
    INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
    SELECT * FROM unnest(
        %s::bigint[], %s::text[], %s::text[], %s::integer[], %s::timestamptz[], %s::text[]
    )
"""


def seed_files() -> None:
    """Create the demo files once (deterministic but for the dates, which end now)."""
    if PassportFile.objects.filter(reference__startswith=REFERENCE_PREFIX).exists():
        return
    rng = random.Random(2025_11_24)
    offices = list(Office.objects.filter(active=True).order_by("code"))
    centres = {office.pk: producing_centre(office=office) for office in offices}
    actors = _actors(offices, centres)
    targets = {
        kind: reachable(at_mission=kind == Office.Kind.MISSION) for kind in Office.Kind.values
    }
    now = timezone.now()
    batches = dispatches.centre_batches(now=now)
    files, histories, batch_of = [], [], []
    for number in range(DEMO_FILES):
        office = offices[number % len(offices)]
        choices = targets[office.kind]
        target = rng.choices(choices, [WEIGHTS.get(s, USUAL_WEIGHT) for s in choices])[0]
        statuses = walk(rng, target=target, at_mission=office.kind == Office.Kind.MISSION)
        producer = centres[office.pk].office_id
        times = dispatches.timeline(rng, statuses, batches=batches[producer], now=now)
        taken = [
            at
            for start, to, at in zip(statuses, statuses[1:], times[1:], strict=False)
            if dispatches.is_dispatch(start, to)
        ]  # its batch is the last that took it, as the dispatcher sets it
        batch_of.append((producer, batches[producer].day_of(taken[-1])) if taken else None)
        files.append(
            PassportFile(
                reference=f"{REFERENCE_PREFIX}-{number:05d}",
                office=office,
                centre=centres[office.pk],
                status=statuses[-1],
                surname=rng.choice(SURNAMES),
                given_names=rng.choice(GIVEN_NAMES),
                national_id=f"DEMO{number:011d}",
                birth_date=DEMO_BIRTH_DATE,
                due_date=premium_due_date(
                    office=office, enrolled_on=timezone.localdate(times[0], office.timezone)
                ),
                rejection_reason=REJECTION_REASON if statuses[-1] == FileStatus.REJECTED else "",
            )
        )
        histories.append((statuses, times))
    batch_ids = dispatches.batches_write(batches)
    for file, key in zip(files, batch_of, strict=True):
        file.batch_id = batch_ids[key] if key else None
    PassportFile.objects.bulk_create(files, batch_size=1000)
    _insert(files, histories, actors, rng)


class _Actors:
    """The demo staff who may act on the files of one office, by the project's own rules:
    enrol there (core.access.staff_scope) and make each move of the table
    (production.selectors.roles_for_file)."""

    def __init__(self, *, office: Office, centre, users: list) -> None:
        file = PassportFile(office=office, centre=centre)
        self.enrollers = [u.pk for u in users if staff_scope(u).works_at_counter(office.pk)]
        self.roles = {u.pk: roles_for_file(user=u, file=file) for u in users}

    def pick(self, rng: random.Random, *, start: str, to: str) -> int | None:
        """One of them, at random; None when none may (the service's own move, such as a
        hold during a suspension, or a move left to the ministry's administrators)."""
        if not start:
            candidates = self.enrollers
        else:
            allowed = transitions.TRANSITIONS[(start, to)]
            candidates = [pk for pk, held in self.roles.items() if held & allowed]
        return rng.choice(candidates) if candidates else None


def _actors(offices: list[Office], centres: dict) -> dict[int, _Actors]:
    usernames = [username for username, _role, _office in STAFF]
    users = list(get_user_model().objects.filter(username__in=usernames).order_by("username"))
    return {o.pk: _Actors(office=o, centre=centres[o.pk], users=users) for o in offices}


def _insert(files: list[PassportFile], histories: list, actors: dict, rng: random.Random) -> None:
    """Each file's events, by a member of staff whom the rules allow, and its dates."""
    dates, events = [], []
    dispatched = str(DISPATCH_NOTE)
    for file, (statuses, times) in zip(files, histories, strict=True):
        dates.append((file.pk, times[0], times[-1]))
        for start, to, at in zip(["", *statuses[:-1]], statuses, times, strict=True):
            if dispatches.is_dispatch(start, to):  # the dispatcher's move: no author
                events.append((file.pk, start, to, None, at, dispatched))
                continue
            by = actors[file.office_id].pick(rng, start=start, to=to)
            note = file.rejection_reason if to == FileStatus.REJECTED else ""
            events.append((file.pk, start, to, by, at, note))
    with connection.cursor() as cursor:
        cursor.execute(_DATE_FILES, _columns(dates))
        cursor.execute(_INSERT_EVENTS, _columns(events))


def _columns(rows: list[tuple]) -> list[list]:
    """Rows as one list per column, the arrays that the statements unnest."""
    return [list(column) for column in zip(*rows, strict=True)]
