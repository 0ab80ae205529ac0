from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("production")

    def ready(self) -> None:
        from appointments.signals import suspension_changed, suspension_edge
        from core import schedules as core_schedules
        from core.outbox import kinds as outbox_kinds

        from . import backlog, messages, schedules

        core_schedules.register(*schedules.SCHEDULES)
        # What the files' steps and the tracking link say (the outbox sends them).
        outbox_kinds.register(*messages.KINDS)
        suspension_changed.connect(
            backlog.on_suspension_changed, dispatch_uid="production.backlog.on_suspension"
        )
        suspension_edge.connect(
            backlog.on_suspension_edge, dispatch_uid="production.backlog.on_suspension_edge"
        )
