import os

from django.apps import AppConfig, apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """What every app of the portal stands on: errors, headers, parsers, logs, the cache,
    health checks and the Celery heartbeat, periodic task set-up, staff sessions."""

    name = "core"
    verbose_name = "e-passport Premium"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from . import schedules, staff_sessions, tokens  # noqa: F401 - staff_sessions: its receiver

        # Sent once django_celery_beat's tables exist (and again after a test flush).
        post_migrate.connect(
            schedules.install_default_schedules,
            sender=apps.get_app_config("django_celery_beat"),
            dispatch_uid="core.install_default_schedules",
        )
        # A new password revokes the staff API token.
        pre_save.connect(
            tokens.revoke_on_password_change,
            sender=get_user_model(),
            dispatch_uid="core.tokens.revoke_on_password_change",
        )
        _refuse_gunicorn_without_static_files()


def _refuse_gunicorn_without_static_files() -> None:
    """With DEBUG off every page names its files through collectstatic's manifest: without it
    they would all answer 500. Refused at start instead, with what to do: when gunicorn
    serves the portal (it names itself in SERVER_SOFTWARE before loading the application),
    not when a test, a script or a management command sets Django up."""
    if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        return
    from .health import static_manifest_problem

    problem = static_manifest_problem()
    if problem:
        raise ImproperlyConfigured(f"The portal cannot serve its pages: {problem}.")
