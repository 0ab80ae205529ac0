"""Following a passport file or an appointment (/suivi/ and GET /api/v1/track/).

The applicant gives a reference (of the file, or of the appointment) and a date of birth.
No enumeration: an unknown reference and a wrong date of birth are one answer (None here,
404 or the same form message outside) reached by the same single query; every lookup counts
against the address's budget and the reference's budget, whatever its outcome.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import _split_rate
from redis.exceptions import RedisError

from appointments import protection
from appointments.models import Appointment, Office
from appointments.validation import REFERENCE_PATTERN

from . import estimate as estimates
from .models import FileStatus, PassportFile

TRACK_GROUP = "track"
REFERENCE_MAX_LENGTH = 20

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


def clean_reference(value: str) -> str:
    """A reference as typed or scanned: spaces and case do not matter, nor the hyphen of a
    booking reference (ACDE-FGHJ) or of a file number (DACDEF-GHJKM)."""
    compact = re.sub(r"\s", "", value or "").upper()[:REFERENCE_MAX_LENGTH]
    if "-" not in compact:
        if len(compact) == 8:
            return f"{compact[:4]}-{compact[4:]}"
        if len(compact) == 11 and compact.startswith("D"):
            return f"{compact[:6]}-{compact[6:]}"
    return compact


def rate_limited(request: HttpRequest, *, reference: str) -> bool:
    """Count this lookup against the address's budget and the reference's, in one round trip
    to Redis; True when over either. Passes (logged) when Redis cannot be reached, as
    booking does."""
    if not settings.RATE_LIMITS:
        return False
    budgets = [
        (f"{TRACK_GROUP}:ip:{protection.client_ip(TRACK_GROUP, request)}", settings.TRACK_RATE),
        (f"{TRACK_GROUP}:ref:{reference}", settings.TRACK_REFERENCE_RATE),
    ]
    limits = [_split_rate(rate) for _key, rate in budgets]
    try:
        counts = cache.count_hits(
            [(key, period) for (key, _r), (_n, period) in zip(budgets, limits, strict=True)]
        )
    except (RedisError, OSError):
        protection.logger.warning("tracking rate limit skipped: cache unreachable")
        return False
    return any(count > limit for count, (limit, _period) in zip(counts, limits, strict=True))


def retry_after() -> int:
    """Seconds to tell a client over its budget: the longest of the two windows."""
    return max(_split_rate(settings.TRACK_RATE)[1], _split_rate(settings.TRACK_REFERENCE_RATE)[1])


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
