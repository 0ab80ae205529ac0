from celery import shared_task


@shared_task(name="appointments.slots_generate", ignore_result=True)
def slots_generate() -> int:
    """Create the slots of the next 60 days (beat, nightly). Idempotent."""
    from . import services

    return services.slots_generate()


@shared_task(name="appointments.holidays_sync", ignore_result=True)
def holidays_sync() -> int:
    """Close the public holidays of the booking horizon and a month more (beat, daily, before
    the slot generation). Idempotent; the holidays an administrator kept open stay open."""
    from . import services

    return services.holidays_sync()


@shared_task(name="appointments.booking_reminders", ignore_result=True)
def booking_reminders() -> int:
    """Write the reminders of tomorrow's appointments (run by beat every hour; idempotent)."""
    from . import services

    return services.booking_reminders_enqueue()


@shared_task(name="appointments.holds_expire", ignore_result=True)
def holds_expire() -> int:
    """Free the seats of the pending bookings whose code was not entered in time (contact
    verification; run by beat every minute; idempotent), and forget the proof-of-work
    challenges used and expired since."""
    from . import protection, services

    protection.challenges_purge()
    return services.holds_expire()


@shared_task(name="appointments.suspension_edge", ignore_result=True)
def suspension_edge(suspension_id: int | None = None, edge: str = "") -> None:
    """A suspension's start or reopening (one-off clocked task, services/suspension.py): told
    to the apps that follow suspensions (appointments.signals.suspension_edge)."""
    from .signals import suspension_edge as reached

    reached.send(sender=None, suspension_id=suspension_id, edge=edge)
