from celery import shared_task

from . import health


@shared_task(name="epassport.heartbeat", ignore_result=True, expires=60)
def heartbeat() -> None:
    health.record_heartbeat()


# The outbox's tasks keep the names they had when the appointments app sent the outbox:
# operations route, limit and schedule them by name (settings, beat's periodic tasks).
@shared_task(name="appointments.outbox_sweep", ignore_result=True)
def outbox_sweep() -> int:
    """Send every pending message whose time has come, retries included (run by beat every
    10 seconds, on the `notifications` queue). Idempotent: each message is claimed before it
    is sent, so sweeps at once, or one run again after its worker died, send it once."""
    from .outbox import delivery

    return delivery.outbox_sweep()


@shared_task(name="appointments.outbox_deliver", ignore_result=True)
def outbox_deliver(message_ids: list[int]) -> int:
    """Send these messages now, each if still pending and due (on the `notifications`
    queue): a hold's code, pushed when its booking commits (appointments.notifications) so
    that it does not wait for the next sweep. Idempotent, like the sweep it runs beside: a
    message the sweep has claimed or sent is left alone. Returns how many were sent."""
    from .outbox import delivery

    return sum(delivery.outbox_deliver(message_id=pk) for pk in message_ids)
