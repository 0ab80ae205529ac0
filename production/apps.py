from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("production")

    def ready(self) -> None:
        from appointments.signals import suspension_changed

        from . import backlog

        suspension_changed.connect(
            backlog.on_suspension_changed, dispatch_uid="production.backlog.on_suspension"
        )
