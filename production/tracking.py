"""Following a passport file or an appointment (/suivi/ and GET /api/v1/track/).

The applicant gives a reference (of the file, or of the appointment) and a date of birth.
No enumeration: an unknown reference and a wrong date of birth are one answer (None here,
404 or the same form message outside) reached by the same single query.

Budgets: every lookup counts against the address's (TRACK_RATE); only the lookups that fail
count against the reference's (TRACK_REFERENCE_RATE), so that dates of birth cannot be tried
one after another from many addresses, and its owner, who knows the date, never spends it.
Once a stranger has spent it, the reference answers 429 to everyone for the window, and its
owner asks for a **tracking link**: sent to the contacts of the appointment (email and SMS,
through the outbox; at most one per reference an hour, whatever the number of asks), signed,
valid TRACK_LINK_HOURS, it shows the file without the date of birth and counts against no
budget. The ask answers the same whether the reference exists or not.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import _split_rate
from redis.exceptions import RedisError

from appointments import notifications
from appointments.models import Appointment
from appointments.validation import REFERENCE_PATTERN, clean_reference
from core import clients
from core.models import Office

from . import estimate as estimates
from .models import FileStatus, PassportFile

logger = logging.getLogger(__name__)

TRACK_GROUP = "track"

# Each status in plain words, for the applicant.
FILE_LABELS = {
    FileStatus.ON_HOLD: _("Dossier mis en attente"),
    FileStatus.ENROLLED: _("Dossier reçu"),
    FileStatus.QUEUED: _("En attente de fabrication"),
    FileStatus.IN_PRODUCTION: _("Passeport en fabrication"),
    FileStatus.QUALITY_CHECK: _("Passeport en contrôle qualité"),
    FileStatus.IN_TRANSIT: _("Passeport en route vers votre ambassade ou consulat"),
    FileStatus.READY: _("Passeport prêt : vous pouvez venir le retirer"),
    FileStatus.DELIVERED: _("Passeport remis"),
    FileStatus.REJECTED: _("Dossier rejeté"),
}
APPOINTMENT_LABELS = {
    Appointment.Status.BOOKED: _("Rendez-vous confirmé"),
    Appointment.Status.CHECKED_IN: _("Arrivée enregistrée au guichet"),
    Appointment.Status.ENROLLED: _("Dossier reçu"),
    Appointment.Status.NO_SHOW: _("Absent au rendez-vous"),
    Appointment.Status.CANCELLED: _("Rendez-vous annulé"),
    Appointment.Status.DISPLACED: _(
        "Rendez-vous à reprogrammer (service suspendu ou bureau fermé)"
    ),
}


def status_label(kind: str, status: str) -> str:
    labels = FILE_LABELS if kind == "file" else APPOINTMENT_LABELS
    return str(labels.get(status, status))


@dataclass(frozen=True)
class Step:
    status: str
    label: str
    at: datetime  # in the office's timezone


@dataclass
class Tracked:
    """What the applicant sees: a file, or an appointment not yet enrolled."""

    kind: str  # "file" | "appointment"
    reference: str
    status: str
    office: Office
    timeline: list[Step] = field(default_factory=list)
    estimate: estimates.Estimate | None = None
    appointment: Appointment | None = None  # its date, time and place
    rejection_reason: str = ""

    @property
    def status_label(self) -> str:
        return status_label(self.kind, self.status)

    @property
    def estimated_ready_date(self) -> date | None:
        return self.estimate.ready_on if self.estimate else None


def rate_limited(request: HttpRequest, *, reference: str) -> bool:
    """Count this lookup against the address's budget and read the reference's failures, in
    one round trip to Redis each; True when either is spent. Passes (logged) when Redis
    cannot be reached, as booking does."""
    if not settings.RATE_LIMITS:
        return False
    address_limit, address_period = _split_rate(settings.TRACK_RATE)
    failure_limit, failure_period = _split_rate(settings.TRACK_REFERENCE_RATE)
    try:
        (hits,) = cache.count_hits(
            [(f"{TRACK_GROUP}:ip:{clients.client_ip(TRACK_GROUP, request)}", address_period)]
        )
        (failures,) = cache.hits_so_far([(_failure_key(reference), failure_period)])
    except (RedisError, OSError):
        logger.warning("tracking rate limit skipped: cache unreachable")
        return False
    return hits > address_limit or failures >= failure_limit


def lookup_failed(reference: str) -> None:
    """Count a lookup of `reference` that found nothing (a wrong date of birth, or no such
    reference) against the reference's budget."""
    if not settings.RATE_LIMITS:
        return
    _limit, period = _split_rate(settings.TRACK_REFERENCE_RATE)
    try:
        cache.count_hits([(_failure_key(reference), period)])
    except (RedisError, OSError):
        logger.warning("tracking failure not counted: cache unreachable")


def _failure_key(reference: str) -> str:
    return f"{TRACK_GROUP}:fail:{reference}"


def retry_after() -> int:
    """Seconds to tell a client over its budget: the longest of the two windows."""
    return max(_split_rate(settings.TRACK_RATE)[1], _split_rate(settings.TRACK_REFERENCE_RATE)[1])


# Tracking links ------------------------------------------------------------------------------

LINK_SALT = "production.tracking.link"


def link_token(reference: str) -> str:
    return signing.dumps({"r": reference}, salt=LINK_SALT, compress=True)


def link_reference(token: str) -> str | None:
    """The reference a tracking link shows, or None when the link is not ours or too old."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=3600 * settings.TRACK_LINK_HOURS)
    except signing.BadSignature:  # SignatureExpired included
        return None
    reference = data.get("r") if isinstance(data, dict) else None
    return reference if isinstance(reference, str) else None


def link_send(reference: str, *, now: datetime | None = None) -> bool:
    """Send a tracking link for `reference` to the contacts of its appointment, unless one
    was sent within the hour; True when one is written (the caller says the same thing
    either way: no enumeration)."""
    reference = clean_reference(reference)
    appointment_id = _appointment_for(reference)
    if appointment_id is None:
        return False
    now = now or timezone.now()
    hour = now.strftime("%Y%m%d%H")
    try:
        if not cache.add(f"{TRACK_GROUP}:link:{reference}", hour, timeout=3600):
            return False
    except (RedisError, OSError):
        pass  # the idempotency key below still allows one per hour
    written = notifications.enqueue(
        appointment=appointment_id,
        kind="track_link",
        key=notifications.appointment_key(appointment_id, "track_link", reference, hour),
        payload={"track_token": link_token(reference), "tracked": reference},
    )
    return written > 0


def _appointment_for(reference: str) -> int | None:
    """The appointment whose contacts receive the links of `reference` (an appointment's
    own, or a file's appointment), if its identity is still kept."""
    if REFERENCE_PATTERN.match(reference):
        row = Appointment.objects.filter(reference=reference, erased_at__isnull=True)
        row = row.exclude(status__in=[Appointment.Status.PENDING, Appointment.Status.EXPIRED])
        return row.values_list("pk", flat=True).first()
    return (
        PassportFile.objects.filter(
            reference=reference, erased_at__isnull=True, appointment__erased_at__isnull=True
        )
        .values_list("appointment_id", flat=True)
        .first()
    )


def track_by_link(token: str) -> Tracked | None:
    """What a tracking link shows: the file or appointment, found without the date of birth
    (the link went to its holder's contacts)."""
    reference = link_reference(token)
    if reference is None:
        return None
    if REFERENCE_PATTERN.match(reference):
        born = Appointment.objects.filter(reference=reference).values_list("birth_date")
    else:
        born = PassportFile.objects.filter(reference=reference).values_list("birth_date")
    birth_date = next((value for (value,) in born if value is not None), None)
    return track(reference=reference, birth_date=birth_date) if birth_date else None


def track(*, reference: str, birth_date: date) -> Tracked | None:
    """The file or appointment with this reference whose applicant was born on
    `birth_date`; None otherwise, whichever part did not match."""
    reference = clean_reference(reference)
    if REFERENCE_PATTERN.match(reference):
        return _track_appointment(reference, birth_date)
    return _track_file(reference, birth_date)


def _track_appointment(reference: str, birth_date: date) -> Tracked | None:
    appointment = (
        Appointment.objects.select_related("office", "slot", "passport_file")
        .filter(reference=reference, birth_date=birth_date)
        .first()
    )
    if appointment is None:
        return None
    if appointment.status in (Appointment.Status.PENDING, Appointment.Status.EXPIRED):
        return None  # a hold whose code was not entered (yet) is no appointment
    file = getattr(appointment, "passport_file", None)
    if file is not None:
        return _file_tracked(_BY_ID, [file.pk])
    tz = appointment.office.timezone
    steps = [Step("booked", str(APPOINTMENT_LABELS["booked"]), appointment.created_at)]
    if appointment.status != Appointment.Status.BOOKED:
        label = status_label("appointment", appointment.status)
        steps.append(Step(appointment.status, label, appointment.updated_at))
    return Tracked(
        kind="appointment",
        reference=appointment.reference,
        status=appointment.status,
        office=appointment.office,
        timeline=[Step(s.status, s.label, timezone.localtime(s.at, tz)) for s in steps],
        appointment=appointment,
    )


# The file and its events in one statement: the read path of a reopening, where thousands
# follow their passport (bench/track.py). A wrong date of birth finds no row, as an unknown
# reference does: the same statement, the same work.
_FILE = """
SELECT f.id, f.reference, f.status, f.office_id, f.centre_id, f.due_date, f.created_at,
       f.held_by_service, f.rejection_reason, f.batch_id, b.day,
       ARRAY(SELECT e.to_status FROM production_fileevent e
             WHERE e.file_id = f.id ORDER BY e.at, e.id),
       ARRAY(SELECT e.at FROM production_fileevent e
             WHERE e.file_id = f.id ORDER BY e.at, e.id)
FROM production_passportfile f
LEFT JOIN production_productionbatch b ON b.id = f.batch_id
WHERE {where}
"""
_BY_REFERENCE = _FILE.format(where="f.reference = %s AND f.birth_date = %s")
_BY_ID = _FILE.format(where="f.id = %s")


def _track_file(reference: str, birth_date: date) -> Tracked | None:
    return _file_tracked(_BY_REFERENCE, [reference, birth_date])


def _file_tracked(sql: str, params: list) -> Tracked | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    (pk, reference, status, office_id, centre_id, due_date, created_at, held, reason) = row[:9]
    batch_id, batch_day, statuses, moments = row[9:]
    plan = estimates.schedule()
    office = plan.offices.get(office_id) or Office.objects.get(pk=office_id)
    tz = office.timezone
    timeline: list[Step] = []
    for step_status, at in zip(statuses, moments, strict=True):
        if timeline and timeline[-1].status == step_status:
            continue
        label = status_label("file", step_status)
        timeline.append(Step(step_status, label, at.astimezone(tz)))
    file = PassportFile(
        pk=pk,
        reference=reference,
        status=status,
        office_id=office_id,
        centre_id=centre_id,
        due_date=due_date,
        created_at=created_at,
        held_by_service=held,
        batch_id=batch_id,
    )
    file.batch_day = batch_day
    shipped_at = None
    if status == FileStatus.IN_TRANSIT and timeline:
        shipped_at = timeline[-1].at  # the move to in_transit is the pouch leaving
    return Tracked(
        kind="file",
        reference=reference,
        status=status,
        office=office,
        timeline=timeline,
        estimate=estimates.estimate(file, plan, shipped_at=shipped_at),
        rejection_reason=reason if status == FileStatus.REJECTED else "",
    )
