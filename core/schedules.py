"""Periodic tasks installed in django-celery-beat's tables.

DEFAULT_SCHEDULES below lists every default schedule of the project, the apps' included:
a task is named by its Celery name, so nothing here imports the apps. An app that needs a
periodic task adds it to this list.

Each default schedule is created once, after `migrate` (epassport.apps connects
`install_default_schedules` to django_celery_beat's post_migrate), and never overwritten:
a schedule whose name exists is left alone. From then on it belongs to the administrators,
who change it in the admin (interval, enabled or not).
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class DefaultSchedule:
    name: str
    task: str
    every_seconds: int | None = None
    crontab: dict[str, str] | None = None  # keys of django_celery_beat's CrontabSchedule
    description: str = ""
    expire_seconds: int | None = None  # a run not started by then is dropped, not piled up


DEFAULT_SCHEDULES: list[DefaultSchedule] = [
    DefaultSchedule(
        name="heartbeat",
        task="epassport.heartbeat",
        every_seconds=settings.CELERY_HEARTBEAT_INTERVAL,
        description="Proves to /healthz that beat and a worker are alive.",
    ),
    DefaultSchedule(
        name="outbox sweep",
        task="appointments.outbox_sweep",
        every_seconds=10,
        description="Sends the pending notifications (confirmations, changes, retries).",
    ),
    DefaultSchedule(
        name="pending holds expiry",
        task="appointments.holds_expire",
        every_seconds=60,
        expire_seconds=50,
        description="Frees the seats held by bookings whose code was not entered within 15 "
        "minutes (contact verification). Booking a slot frees its own at once.",
    ),
    DefaultSchedule(
        name="appointment reminders",
        task="appointments.booking_reminders",
        crontab={
            "minute": "5",
            "hour": "*",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
        },
        expire_seconds=3000,
        description="Reminds, by email and SMS, the applicants whose appointment is on the "
        "next day of their office (each once).",
    ),
    DefaultSchedule(
        name="slot generation",
        task="appointments.slots_generate",
        crontab={
            "minute": "15",
            "hour": "2",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
        },
        description="Creates the slots of the next 60 days from opening hours and closures.",
    ),
    DefaultSchedule(
        name="backlog dispatcher",
        task="production.backlog_run",
        every_seconds=300,
        expire_seconds=240,
        description="Holds and releases files as suspensions require, then takes each "
        "centre's queue into production up to its daily capacity.",
    ),
    DefaultSchedule(
        name="backlog snapshot",
        task="production.backlog_snapshot",
        crontab={
            "minute": "0",
            "hour": "*",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
        },
        expire_seconds=3000,
        description="Records each office's backlog at the top of the hour: the history drawn "
        "on the backlog dashboard.",
    ),
    # --- Personal data --------------------------------------------------------
    DefaultSchedule(
        name="personal data erasure",
        task="production.retention_erase",
        crontab={
            "minute": "30",
            "hour": "3",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
        },
        expire_seconds=6 * 3600,
        description="Erases the identity data no longer needed: appointments that led to no "
        "passport file (RETENTION_APPOINTMENT_DAYS after their slot), delivered files and "
        "their appointments (RETENTION_FILE_DAYS after delivery). Statistics stay.",
    ),
]


def install_default_schedules(**kwargs) -> None:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for default in DEFAULT_SCHEDULES:
        if PeriodicTask.objects.filter(name=default.name).exists():
            continue
        fields = {
            "task": default.task,
            "description": default.description,
            "expire_seconds": default.expire_seconds,
        }
        if default.every_seconds is not None:
            fields["interval"], _ = IntervalSchedule.objects.get_or_create(
                every=default.every_seconds, period=IntervalSchedule.SECONDS
            )
        else:
            fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
                **default.crontab, timezone="UTC"
            )
        PeriodicTask.objects.get_or_create(name=default.name, defaults=fields)
