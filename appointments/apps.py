from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("rendez-vous")

    def ready(self) -> None:
        from core import schedules as core_schedules
        from core.outbox import kinds as outbox_kinds

        from . import messages, schedules

        # The SQL functions the statements call (the booking rule, the outbox's recipients
        # and its insert) are made by migrations (0021_sql_functions), not here.
        core_schedules.register(*schedules.SCHEDULES)
        # What the booking messages say (the outbox sends them without knowing).
        outbox_kinds.register(*messages.KINDS)
