from celery import shared_task


@shared_task(name="appointments.outbox_sweep", ignore_result=True)
def outbox_sweep() -> int:
    """Send every pending message whose time has come, retries included (run by beat every
    10 seconds, on the `notifications` queue). Idempotent: each message is claimed before it
    is sent, so sweeps at once, or one run again after its worker died, send it once."""
    from . import delivery

    return delivery.outbox_sweep()


@shared_task(name="appointments.slots_generate", ignore_result=True)
def slots_generate() -> int:
    """Create the slots of the next 60 days (beat, nightly). Idempotent."""
    from . import services

    return services.slots_generate()


@shared_task(name="appointments.booking_reminders", ignore_result=True)
def booking_reminders() -> int:
    """Write the reminders of tomorrow's appointments (run by beat every hour; idempotent)."""
    from . import services

    return services.booking_reminders_enqueue()


@shared_task(name="appointments.holds_expire", ignore_result=True)
def holds_expire() -> int:
    """Free the seats of the pending bookings whose code was not entered in time (contact
    verification; run by beat every minute; idempotent)."""
    from . import services

    return services.holds_expire()
