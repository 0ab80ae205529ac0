"""The erasure task: delivered files and their appointments are
erased 730 days (RETENTION_FILE_DAYS) after delivery, appointments that led to no file 90
days after their slot; statistics, events and the staff's views stay. The Celery task, its
daily schedule, the command, two workers at once."""

from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from appointments.models import Appointment
from appointments.tests.factories import book, member, move
from core import chunks
from core.models import OutboxMessage
from production import retention, tasks
from production.models import FileEvent, FileStatus, FileView, PassportFile
from production.tests.factories import applicant_file
from tests.support import run_together

pytestmark = pytest.mark.django_db

BORN = date(1990, 5, 17)  # the date of birth of appointments.tests.factories.applicant()


def delivered(days_ago: float, **who) -> PassportFile:
    """A file with its appointment, produced and handed over `days_ago` days ago."""
    file = applicant_file(status=FileStatus.READY, **who)
    move(Appointment.objects.filter(pk=file.appointment_id), "enrolled")
    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
        FileEvent.objects.create(file=file, from_status="ready", to_status="delivered")
    PassportFile.objects.filter(pk=file.pk).update(status=FileStatus.DELIVERED)
    file.refresh_from_db()
    return file


def ended(status: str, days_ago: float) -> PassportFile:
    """A file with its appointment that reached `status` (rejected, or ready and never
    collected) `days_ago` days ago."""
    start = "quality_check" if status == FileStatus.REJECTED else "in_transit"
    file = applicant_file(status=start)
    move(Appointment.objects.filter(pk=file.appointment_id), "enrolled")
    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
        FileEvent.objects.create(file=file, from_status=start, to_status=status)
    reason = "Photo non conforme." if status == FileStatus.REJECTED else ""
    PassportFile.objects.filter(pk=file.pk).update(status=status, rejection_reason=reason)
    file.refresh_from_db()
    return file


@pytest.mark.parametrize(
    ("status", "setting", "days"),
    [
        (FileStatus.REJECTED, "RETENTION_REJECTED_DAYS", 365),
        (FileStatus.READY, "RETENTION_UNCOLLECTED_DAYS", 730),
    ],
)
def test_rejected_files_and_passports_never_collected_are_erased_in_their_time(
    status, setting, days, settings
):
    assert getattr(settings, setting) == days
    old, young = ended(status, days + 1), ended(status, days - 1)
    young_before = identity(young)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert tasks.retention_erase() == {"appointments": 0, "files": 1}
    assert identity(old) == ("", "", "", None, now)
    old.appointment.refresh_from_db()
    assert old.appointment.erased_at == now
    assert identity(young) == young_before
    # The setting moves it.
    setattr(settings, setting, days - 2)
    assert tasks.retention_erase() == {"appointments": 0, "files": 1}
    assert identity(young)[-1] is not None


def old_cancelled_appointment() -> Appointment:
    ends_at = timezone.now() - timedelta(days=100)
    appointment, _token = book(
        None, ends_at - timedelta(minutes=15), now=ends_at - timedelta(days=1)
    )
    move(Appointment.objects.filter(pk=appointment.pk), "cancelled")
    return appointment


def identity(file: PassportFile) -> tuple:
    file.refresh_from_db()
    return (file.surname, file.given_names, file.national_id, file.birth_date, file.erased_at)


def test_the_task_erases_files_delivered_730_days_ago_with_their_appointment_keeps_statistics():
    now = timezone.now()
    old = delivered(731)
    young = delivered(729)
    ready = applicant_file(status=FileStatus.READY)  # never delivered: kept whatever its age
    rejected = applicant_file(status=FileStatus.REJECTED)
    appointment = old_cancelled_appointment()
    FileView.objects.create(file=old, user=member("agent", old.office), via="page")
    events = list(FileEvent.objects.filter(file=old).values_list("pk", "to_status", "at"))
    kept = PassportFile.objects.filter(pk=old.pk).values(
        "reference", "status", "office", "centre", "due_date", "created_at", "updated_at"
    )[0]
    young_before, ready_before = identity(young), identity(ready)
    rejected_before = identity(rejected)

    with time_machine.travel(now, tick=False):
        assert tasks.retention_erase() == {"appointments": 1, "files": 1}

    assert identity(old) == ("", "", "", None, now)
    assert old.rejection_reason == ""
    assert PassportFile.objects.filter(pk=old.pk).values(*kept)[0] == kept
    assert list(FileEvent.objects.filter(file=old).values_list("pk", "to_status", "at")) == events
    assert FileView.objects.filter(file=old).count() == 1
    # Its appointment with it, and the appointment's messages.
    old.appointment.refresh_from_db()
    assert old.appointment.erased_at == now
    assert old.appointment.national_id is None
    assert old.appointment.status == "enrolled"
    assert not OutboxMessage.objects.filter(appointment_id=old.appointment.pk).exclude(
        recipient=""
    )
    appointment.refresh_from_db()
    assert appointment.erased_at == now
    # The others are as they were.
    assert identity(young) == young_before
    assert identity(ready) == ready_before
    assert identity(rejected) == rejected_before
    young.appointment.refresh_from_db()
    assert young.appointment.erased_at is None


def test_an_erased_file_can_no_longer_be_followed_with_its_date_of_birth():
    file = delivered(800)
    api = APIClient()
    query = {"reference": file.reference, "birth_date": BORN.isoformat()}
    assert api.get("/api/v1/track/", query).status_code == 200
    retention.retention_run()
    assert api.get("/api/v1/track/", query).status_code == 404


def test_the_staff_file_page_says_the_identity_was_erased(client):
    file = delivered(800, surname="KEITA")
    retention.retention_run()
    client.force_login(member("agent", file.office))
    response = client.get(f"/staff/dossiers/{file.reference}/")
    assert response.status_code == 200
    assert "Données personnelles effacées" in response.content.decode()
    assert "KEITA" not in response.content.decode()
    assert "None" not in response.content.decode()


def test_the_setting_of_days_and_a_second_run_that_changes_nothing(settings):
    settings.RETENTION_FILE_DAYS = 30
    file = delivered(31)
    first = retention.retention_run()
    erased_at = identity(file)[-1]
    second = retention.retention_run()
    assert (first.files, second.files, second.appointments) == (1, 0, 0)
    assert erased_at is not None
    assert identity(file)[-1] == erased_at


def test_the_database_refuses_an_erased_file_that_keeps_its_identity():
    file = delivered(10)
    with (
        pytest.raises(IntegrityError, match="file_identity_erased"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE production_passportfile SET erased_at = now() WHERE id = %s", [file.pk]
        )


def test_the_daily_schedule_is_installed_by_migrate():
    task = PeriodicTask.objects.get(name="personal data erasure")
    assert task.task == "production.retention_erase"
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("30", "3")


def test_the_command_runs_it_by_hand():
    delivered(731)
    old_cancelled_appointment()
    out = StringIO()
    call_command("erase_personal_data", stdout=out)
    assert out.getvalue().splitlines() == [
        "appointments erased (90 days after their slot): 1",
        "delivered files erased with their appointment (730 days after delivery): 1",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_erase_each_file_and_appointment_once(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK", 2)
    files = [delivered(800) for _ in range(9)]
    appointments = [old_cancelled_appointment() for _ in range(5)]
    now = timezone.now()

    runs = run_together([lambda: retention.retention_run(now=now)] * 2)

    assert all(isinstance(run, retention.RetentionRun) for run in runs), runs
    assert sum(run.files for run in runs) == 9
    assert sum(run.appointments for run in runs) == 5
    assert PassportFile.objects.filter(pk__in=[f.pk for f in files], erased_at=now).count() == 9
    erased = [f.appointment_id for f in files] + [a.pk for a in appointments]
    assert Appointment.objects.filter(pk__in=erased, erased_at=now).count() == 14
