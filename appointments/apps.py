from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("rendez-vous")

    def ready(self) -> None:
        from core import schedules as core_schedules
        from core.outbox import kinds as outbox_kinds

        from . import eligibility, messages, notifications, schedules

        core_schedules.register(*schedules.SCHEDULES)
        # What the booking messages say (the outbox sends them without knowing).
        outbox_kinds.register(*messages.KINDS)

        # After every `migrate` (and the flush of a transactional test): the booking rule's
        # SQL functions as eligibility.sql writes them, once the tables they read exist.
        post_migrate.connect(
            eligibility.install, sender=self, dispatch_uid="appointments.eligibility.install"
        )
        # And who is written to about an appointment (outbox.sql).
        post_migrate.connect(
            notifications.install, sender=self, dispatch_uid="appointments.notifications.install"
        )
