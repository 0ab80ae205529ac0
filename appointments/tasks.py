from celery import shared_task


@shared_task(name="appointments.outbox_send", ignore_result=True)
def outbox_send(message_id: int) -> None:
    """Send one outbox message (idempotent: a message already sent is left alone)."""
    from . import delivery

    delivery.outbox_deliver(message_id=message_id)


@shared_task(name="appointments.outbox_sweep", ignore_result=True)
def outbox_sweep() -> int:
    """Send every pending message whose time has come (missed tasks, retries)."""
    from . import delivery

    return delivery.outbox_sweep()


@shared_task(name="appointments.slots_generate", ignore_result=True)
def slots_generate() -> int:
    from . import services

    return services.slots_generate()
