"""The backlog's holds and releases (set-based, production/sql/hold.sql and release.sql) tell
each file's applicant in the same statement: once per hold and once per release, by the
channels they keep, however many runs there are and however many at once."""

from datetime import UTC, datetime, timedelta

import pytest

from appointments import services as appointment_services
from appointments.models import Suspension
from appointments.tests.factories import member
from core import chunks
from core.models import OutboxMessage
from core.outbox import kinds as outbox_messages
from production import backlog
from production.models import FileEvent, FileStatus
from production.tests.factories import PassportFileFactory, applicant_file
from tests.support import run_together

pytestmark = pytest.mark.django_db

NOON = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)  # the reopening, a Monday
HOUR = timedelta(hours=1)


def told(kind: str) -> list[tuple[int, str, str]]:
    """(file's appointment, channel, key) of every message of this kind."""
    return sorted(
        OutboxMessage.objects.filter(kind=kind).values_list(
            "appointment_id", "channel", "idempotency_key"
        )
    )


def expected(files, to: str) -> list[tuple[int, str, str]]:
    """One email and one SMS per file, keyed by the file's last event to `to`."""
    rows = []
    for file in files:
        event = FileEvent.objects.filter(file=file, to_status=to).latest("pk")
        for channel in ("email", "sms"):
            rows.append((file.appointment_id, channel, f"file:{file.pk}:{to}:{event.pk}"))
    return sorted(rows)


def suspend(office, *, starts_at, reopens_at, now):
    return appointment_services.suspension_create(
        by=member("admin"),
        starts_at=starts_at,
        reopens_at=reopens_at,
        office_codes=[office.code],
        message_fr="Suspension technique.",
        now=now,
    )


def test_a_hold_and_its_release_tell_each_applicant_once(paris, bamako):
    waiting = [
        applicant_file(paris.office, centre=bamako, status=status)
        for status in (FileStatus.ENROLLED, FileStatus.QUEUED)
    ]
    quiet = applicant_file(paris.office, centre=bamako, status=FileStatus.QUEUED)
    appointment_services.booking_notifications_set(appointment=quiet.appointment, email=False)
    PassportFileFactory(centre=bamako, office=paris.office, status=FileStatus.QUEUED)  # no one
    applicant_file(paris.office, centre=bamako, status=FileStatus.IN_PRODUCTION)  # goes on

    suspend(paris.office, starts_at=NOON - timedelta(days=3), reopens_at=NOON, now=NOON - HOUR)

    quiet_hold = FileEvent.objects.get(file=quiet, to_status="on_hold")
    quiet_sms = (quiet.appointment_id, "sms", f"file:{quiet.pk}:on_hold:{quiet_hold.pk}")
    assert told("file_on_hold") == sorted([*expected(waiting, "on_hold"), quiet_sms])
    message = OutboxMessage.objects.filter(
        kind="file_on_hold", appointment_id=waiting[0].appointment.pk
    )
    assert message.first().payload == {
        "file_reference": waiting[0].reference,
        "suspended": True,
        "reopens_at": "2025-11-24T12:00:00+00:00",
    }
    email = outbox_messages.render_email(message.get(channel="email"))
    assert email.subject == f"Passeport Premium : dossier {waiting[0].reference} mis en attente"
    assert "Le service Premium est momentanément suspendu." in email.body
    assert "Reprise prévue : lundi 24 novembre 2025 à 13:00 (Europe/Paris" in email.body

    # While it lasts, runs tell nothing more.
    assert backlog.backlog_run(now=NOON - HOUR).held == 0
    assert len(told("file_on_hold")) == 5

    # The reopening passes: the release is told, once.
    assert backlog.backlog_run(now=NOON + timedelta(minutes=5)).released == 4  # one untold
    assert backlog.backlog_run(now=NOON + timedelta(minutes=10)).released == 0
    quiet_release = FileEvent.objects.get(file=quiet, to_status="queued")
    quiet_sms = (quiet.appointment_id, "sms", f"file:{quiet.pk}:queued:{quiet_release.pk}")
    assert told("file_released") == sorted([*expected(waiting, "queued"), quiet_sms])
    assert len(told("file_on_hold")) == 5
    released = OutboxMessage.objects.filter(kind="file_released", channel="sms").first()
    assert "sa production reprend" in outbox_messages.sms_text(released)


def test_a_file_held_by_two_suspensions_in_turn_is_told_of_each(paris, bamako):
    applicant_file(paris.office, centre=bamako, status=FileStatus.QUEUED)
    first = NOON - timedelta(days=10)
    suspend(paris.office, starts_at=first, reopens_at=first + timedelta(days=1), now=first)
    assert backlog.backlog_release(now=first + timedelta(days=2)) == 1  # queued again
    suspend(paris.office, starts_at=NOON - timedelta(days=1), reopens_at=NOON, now=NOON - HOUR)

    holds = told("file_on_hold")
    assert len(holds) == 4
    assert len({key for _a, _c, key in holds}) == 2  # two holds, two events, two keys
    assert len(told("file_released")) == 2


@pytest.mark.django_db(transaction=True)
def test_runs_at_once_over_many_chunks_tell_each_file_once(monkeypatch, paris, bamako):
    monkeypatch.setattr(chunks, "CHUNK", 3)  # many chunks, so that the runs interleave
    files = [applicant_file(paris.office, centre=bamako, status="queued") for _ in range(10)]
    suspension = Suspension.objects.create(starts_at=NOON - timedelta(days=1), message="Fermé.")
    suspension.offices.add(paris.office)

    results = run_together([lambda: backlog.backlog_run(now=NOON) for _ in range(3)])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(run.held for run in results) == 10
    assert told("file_on_hold") == expected(files, "on_hold")
