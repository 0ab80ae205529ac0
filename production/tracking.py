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
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from appointments import protection
from appointments.models import Appointment, Office
from appointments.validation import REFERENCE_PATTERN

from . import estimate as estimates
from .models import FileEvent, FileStatus, PassportFile

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
    """Count this lookup against the address's budget and the reference's; True when over
    either. Passes (logged) when Redis cannot be reached, as booking does."""
    if not settings.RATE_LIMITS:
        return False
    try:
        by_address = is_ratelimited(
            request,
            group=TRACK_GROUP,
            key=protection.client_ip,
            rate=settings.TRACK_RATE,
            increment=True,
        )
        by_reference = is_ratelimited(
            request,
            group=f"{TRACK_GROUP}-reference",
            key=lambda _group, _request: reference,
            rate=settings.TRACK_REFERENCE_RATE,
            increment=True,
        )
    except (RedisError, OSError):
        protection.logger.warning("tracking rate limit skipped: cache unreachable")
        return False
    return by_address or by_reference


def retry_after() -> int:
    """Seconds to tell a client over its budget: the longest of the two windows."""
    from django_ratelimit.core import _split_rate

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
        Appointment.objects.select_related(
            "office", "slot", "passport_file__office", "passport_file__batch"
        )
        .filter(reference=reference)
        .first()
    )
    if appointment is None or appointment.birth_date != birth_date:
        return None
    if appointment.status in (Appointment.Status.PENDING, Appointment.Status.EXPIRED):
        return None  # a hold whose code was not entered (yet) is no appointment
    file = getattr(appointment, "passport_file", None)
    if file is not None:
        return _file_tracked(file)
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


def _track_file(reference: str, birth_date: date) -> Tracked | None:
    file = (
        PassportFile.objects.select_related("office", "batch").filter(reference=reference).first()
    )
    if file is None or file.birth_date is None or file.birth_date != birth_date:
        return None
    return _file_tracked(file)


def _file_tracked(file: PassportFile) -> Tracked:
    tz = file.office.timezone
    events = (
        FileEvent.objects.filter(file=file).order_by("at", "pk").values_list("to_status", "at")
    )
    timeline: list[Step] = []
    for status, at in events:
        if timeline and timeline[-1].status == status:
            continue
        timeline.append(Step(status, status_label("file", status), timezone.localtime(at, tz)))
    shipped_at = None
    if file.status == FileStatus.IN_TRANSIT and timeline:
        shipped_at = timeline[-1].at  # the move to in_transit is the pouch leaving
    plan = estimates.schedule()
    return Tracked(
        kind="file",
        reference=file.reference,
        status=file.status,
        office=file.office,
        timeline=timeline,
        estimate=estimates.estimate(file, plan, shipped_at=shipped_at),
        rejection_reason=file.rejection_reason if file.status == FileStatus.REJECTED else "",
    )
