"""Periodic tasks installed in django-celery-beat's tables.

DEFAULT_SCHEDULES below lists every default schedule of the project, the apps' included:
a task is named by its Celery name, so nothing here imports the apps. An app that needs a
periodic task adds it to this list.

Each default schedule is created once, after `migrate` (core.apps connects
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


# Every default schedule: core's here (the heartbeat, the outbox sweep), each app's added by
# its AppConfig.ready() (`register`), so that this module names no task of an app above it.
DEFAULT_SCHEDULES: list[DefaultSchedule] = [
    DefaultSchedule(
        name="heartbeat",
        task="epassport.heartbeat",
        every_seconds=settings.CELERY_HEARTBEAT_INTERVAL,
        description="Proves to /healthz that beat and a worker are alive.",
    ),
    DefaultSchedule(
        name="outbox sweep",
        task="appointments.outbox_sweep",  # its name from before the outbox moved to core
        every_seconds=10,
        description="Sends the pending notifications (confirmations, changes, retries).",
    ),
]


def register(*defaults: DefaultSchedule) -> None:
    """Add an app's default schedules (once each, by name: ready() may run twice in tests)."""
    names = {default.name for default in DEFAULT_SCHEDULES}
    DEFAULT_SCHEDULES.extend(default for default in defaults if default.name not in names)


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
