from celery import shared_task

from . import health


@shared_task(name="epassport.heartbeat", ignore_result=True, expires=60)
def heartbeat() -> None:
    health.record_heartbeat()
