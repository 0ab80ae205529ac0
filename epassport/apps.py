from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class EpassportConfig(AppConfig):
    """The project itself: health checks, the Celery heartbeat, periodic task set-up."""

    name = "epassport"
    verbose_name = "e-passport Premium"

    def ready(self) -> None:
        from . import schedules, staff_sessions  # noqa: F401 - staff_sessions: its receiver

        # Sent once django_celery_beat's tables exist (and again after a test flush).
        post_migrate.connect(
            schedules.install_default_schedules,
            sender=apps.get_app_config("django_celery_beat"),
            dispatch_uid="epassport.install_default_schedules",
        )
