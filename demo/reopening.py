"""The reopening scenario (`seed_demo --scenario reopening`): the whole story of a suspension,
ready to watch.

On top of the reference demo data, applicants booked and were enrolled in the days before
the suspension (their files wait for production), others booked appointments in the days
the suspension covers; then the Premium service was suspended at every office a week ago,
with its reopening a few minutes from now. Everything goes through the services, as it
would in the portal: `booking_create`, `file_enrol`, `file_transition` and
`suspension_create`, which displaces the appointments inside the suspension and holds the
files. At the reopening booking opens by itself (the booking rule is computed), and the
backlog dispatcher releases the held files and takes them into each centre's daily batch.

Running it again does not pile up a second backlog: the previous scenario's suspension is
removed first (what it held is released, then held again by the new one), and files and
displaced appointments are only topped up to the numbers asked.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from appointments import services as appointment_services
from appointments.models import Appointment, Slot, Suspension
from core.errors import DomainError
from core.models import Office, OutboxMessage
from production import services as production_services
from production.models import Centre, FileStatus, PassportFile

from .files import GIVEN_NAMES, SURNAMES
from .staff import ADMIN_USERNAME, STAFF

FILES = 2000
APPOINTMENTS = 300
REOPENS_IN_MINUTES = 5
SUSPENDED_FOR = timedelta(days=7)  # the suspension began a week ago
ENROLMENT_DAYS = 14  # the files were enrolled in the two weeks before it
QUEUED_SHARE = 2 / 3  # files the offices had sent to production (the rest: just enrolled)
ENGLISH_SHARE = 0.15

# How the scenario's applicants are recognised (their identity numbers, copied onto their
# files), and its suspension (by its message).
IDENTITY_PREFIX = "REOUV"
MESSAGE_FR = (
    "Le service Premium est suspendu pendant la mise à niveau du système de personnalisation "
    "des passeports. Les rendez-vous prévus pendant la suspension sont à reprogrammer : "
    "chaque demandeur a reçu un lien pour choisir un nouveau créneau."
)
MESSAGE_EN = (
    "The Premium service is suspended while the passport personalisation system is "
    "upgraded. Appointments during the suspension must be rebooked: each applicant has "
    "received a link to choose a new time."
)
BAMAKO = ZoneInfo("Africa/Bamako")


@dataclass
class CentreBacklog:
    code: str
    waiting: int
    daily_capacity: int

    @property
    def days(self) -> int:
        return math.ceil(self.waiting / self.daily_capacity)


@dataclass
class Reopening:
    """What the scenario did, for the command to print."""

    suspension: Suspension
    replaced: list[int] = field(default_factory=list)  # previous scenario suspensions
    files_waiting: int = 0  # the scenario's files waiting for production, this run's included
    files_enrolled: int = 0
    files_queued: int = 0
    appointments_booked: int = 0
    displaced: int = 0  # the scenario's appointments waiting to be rebooked
    held: int = 0  # files held by the service, all offices
    centres: list[CentreBacklog] = field(default_factory=list)


@transaction.atomic
def seed_reopening(
    *,
    files: int = FILES,
    appointments: int = APPOINTMENTS,
    reopens_in: timedelta = timedelta(minutes=REOPENS_IN_MINUTES),
) -> Reopening:
    """Suspend the service since a week ago with `files` files waiting and `appointments`
    appointments displaced (topped up: those of a previous run count), reopening in
    `reopens_in` (rounded up to a whole minute). Expects the reference demo data
    (demo.seed.seed)."""
    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    replaced = _end_previous(by=admin)
    now = timezone.now()
    starts_at = (now - SUSPENDED_FOR).replace(minute=0, second=0, microsecond=0)
    applicants = _Applicants(booked_at=starts_at - timedelta(days=ENROLMENT_DAYS + 1))
    waiting = _scenario_files().filter(
        status__in=[FileStatus.ENROLLED, FileStatus.QUEUED, FileStatus.ON_HOLD]
    )
    enrolled, queued = _enrol(
        applicants,
        count=files - waiting.count(),
        since=starts_at - timedelta(days=ENROLMENT_DAYS),
        until=starts_at,
    )
    booked = _book(
        applicants,
        count=appointments - _scenario_appointments(Appointment.Status.DISPLACED),
        since=starts_at,
        until=now,
    )
    _confirmations_sent_when_booked()
    suspension = appointment_services.suspension_create(
        by=admin,
        starts_at=starts_at,
        reopens_at=on_the_minute(timezone.now() + reopens_in),
        office_codes=None,
        message_fr=MESSAGE_FR,
        message_en=MESSAGE_EN,
    )
    return Reopening(
        suspension=suspension,
        replaced=replaced,
        files_waiting=waiting.count(),
        files_enrolled=enrolled,
        files_queued=queued,
        appointments_booked=booked,
        displaced=_scenario_appointments(Appointment.Status.DISPLACED),
        held=PassportFile.objects.filter(held_by_service=True).count(),
        centres=_centres_backlog(),
    )


def on_the_minute(moment: datetime) -> datetime:
    """The first whole minute at or after `moment`: reopening times are announced to the
    minute, so the demo reopens when it says (not at 12:50:46 when it shows 12:50)."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def _scenario_appointment_ids():
    """The ids of the scenario's appointments (a subquery: the outbox knows appointments by
    id only)."""
    return Appointment.objects.filter(national_id__startswith=IDENTITY_PREFIX).values("pk")


def _end_previous(*, by) -> list[int]:
    """Remove the suspensions of a previous run of the scenario (recognised by their
    message) and the messages about the files they held; the appointments they displaced
    stay displaced."""
    previous = list(Suspension.objects.filter(message=MESSAGE_FR).order_by("pk"))
    for suspension in previous:
        appointment_services.suspension_delete(suspension=suspension, by=by)
    # The story is rewound, not lived on: the scenario's applicants are not told that their
    # files were released and held again, and the hold they were told of goes with the
    # suspension (this run's tells them again).
    OutboxMessage.objects.filter(
        appointment_id__in=_scenario_appointment_ids(),
        kind__in=["file_on_hold", "file_released"],
    ).delete()
    return [suspension.pk for suspension in previous]


def _enrol(
    applicants: "_Applicants", *, count: int, since: datetime, until: datetime
) -> tuple[int, int]:
    """`count` applicants booked seats in [since, until) and were enrolled there, by the
    office's agent, who sent most of the files to the production queue; returns how many
    files were enrolled and how many queued."""
    agents = _agents()
    enrolled = queued = 0
    for slot_id, office_id in _free_seats(applicants.rng, since=since, until=until, count=count):
        appointment = applicants.book(slot_id=slot_id)
        if appointment is None:
            continue
        agent = agents[office_id]
        file, _created = production_services.file_enrol(appointment=appointment.pk, by=agent)
        enrolled += 1
        if applicants.rng.random() < QUEUED_SHARE:
            production_services.file_transition(
                file=file, to=FileStatus.QUEUED, expected=FileStatus.ENROLLED, by=agent
            )
            queued += 1
    return enrolled, queued


def _book(applicants: "_Applicants", *, count: int, since: datetime, until: datetime) -> int:
    """`count` applicants booked seats in [since, until); returns how many."""
    seats = _free_seats(applicants.rng, since=since, until=until, count=count)
    return sum(applicants.book(slot_id=slot_id) is not None for slot_id, _office in seats)


def _scenario_files():
    return PassportFile.objects.filter(national_id__startswith=IDENTITY_PREFIX)


def _scenario_appointments(status: str) -> int:
    return Appointment.objects.filter(
        national_id__startswith=IDENTITY_PREFIX, status=status
    ).count()


def _agents() -> dict[int, User]:
    """The demo's counter agent of each office (office id -> user), who enrols there."""
    usernames = {username: code for username, role, code in STAFF if role == "agent"}
    offices = dict(Office.objects.values_list("code", "pk"))
    users = get_user_model().objects.filter(username__in=usernames)
    return {offices[usernames[user.username]]: user for user in users}


def _free_seats(
    rng: random.Random, *, since: datetime, until: datetime, count: int
) -> list[tuple[int, int]]:
    """Up to `count` free seats (slot id, office id) drawn among the open slots starting in
    [since, until), whose slots are generated first (slots_generate, idempotent) for the days
    in the past."""
    if count <= 0 or until <= since:
        return []
    first = since.astimezone(BAMAKO).date() - timedelta(days=1)  # offices west of Bamako
    appointment_services.slots_generate(today=first, days=(until.date() - first).days + 1)
    slots = Slot.objects.filter(
        office__active=True,
        is_open=True,
        starts_at__gte=since,
        starts_at__lt=until,
        booked__lt=F("capacity"),
    ).order_by("starts_at", "pk")
    seats = [
        (slot_id, office_id)
        for slot_id, office_id, free in slots.values_list(
            "pk", "office_id", F("capacity") - F("booked")
        )
        for _seat in range(free)
    ]
    return rng.sample(seats, min(count, len(seats)))


class _Applicants:
    """The scenario's applicants: numbered after those of previous runs, so that every run
    adds new people."""

    def __init__(self, *, booked_at: datetime) -> None:
        self.booked_at = booked_at  # when they booked, before the suspension was announced
        self.number = Appointment.objects.filter(national_id__startswith=IDENTITY_PREFIX).count()
        self.rng = random.Random(2025_11_24 + self.number)

    def book(self, *, slot_id: int) -> Appointment | None:
        """Book a seat of the slot as a new applicant did then (None if it is refused: an
        administrator's own suspension or closure, say)."""
        rng, self.number = self.rng, self.number + 1
        applicant = appointment_services.Applicant(
            surname=rng.choice(SURNAMES),
            given_names=rng.choice(GIVEN_NAMES),
            birth_date=date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28)),
            national_id=f"{IDENTITY_PREFIX}{self.number:010d}",
            email=f"demandeur.{self.number}@example.org",
            phone=f"+2237{rng.randint(0, 9_999_999):07d}",
            language="en" if rng.random() < ENGLISH_SHARE else "fr",
        )
        try:
            appointment, _token = appointment_services.booking_create(
                slot=slot_id, applicant=applicant, now=self.booked_at, verify=False
            )
        except DomainError:
            return None
        return appointment


def _confirmations_sent_when_booked() -> None:
    """The scenario's applicants booked days ago: their confirmations went out then. Mark
    them sent (and wipe their manage tokens, as sending does) so that the worker does not
    send thousands of stale confirmations now; the displacement notices that the suspension
    writes next are sent as they would be."""
    OutboxMessage.objects.filter(
        appointment_id__in=_scenario_appointment_ids(),
        kind="booking_confirmed",
        status=OutboxMessage.Status.PENDING,
    ).update(status=OutboxMessage.Status.SENT, sent_at=timezone.now(), payload={})


def _centres_backlog() -> list[CentreBacklog]:
    """The files each centre must produce before its backlog is cleared: held by the service
    or queued, at the centre itself and at the missions it produces for."""
    counts = dict(
        PassportFile.objects.filter(Q(held_by_service=True) | Q(status=FileStatus.QUEUED))
        .values_list("centre_id")
        .annotate(Count("pk"))
    )
    return [
        CentreBacklog(
            code=centre.office.code,
            waiting=counts.get(centre.pk, 0),
            daily_capacity=centre.daily_capacity,
        )
        for centre in Centre.objects.select_related("office").order_by("office__code")
    ]
