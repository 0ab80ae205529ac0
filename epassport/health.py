"""Liveness of the portal's three dependencies, for /healthz and for operators."""

import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

HEARTBEAT_KEY = "celery:heartbeat"


def record_heartbeat(*, now: float | None = None) -> None:
    """Called by the heartbeat task: the worker ran a task that beat sent."""
    cache.set(HEARTBEAT_KEY, now if now is not None else time.time(), timeout=24 * 3600)


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is reported, never raised to the caller
        return f"error: {exc.__class__.__name__}: {exc}".strip()
    return "ok"


def check_redis() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}: {exc}".strip()
    return "ok"


def check_celery(*, now: float | None = None) -> str:
    """ok when beat's heartbeat task has been run by a worker recently enough."""
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        return f"error: heartbeat unreadable ({exc.__class__.__name__})"
    if beat is None:
        return "error: no heartbeat from the worker yet (are the worker and beat running?)"
    age = (now if now is not None else time.time()) - float(beat)
    if age > settings.CELERY_HEARTBEAT_MAX_AGE:
        return f"error: last heartbeat {int(age)} s ago (worker or beat down?)"
    return "ok"


def report() -> dict[str, str]:
    return {"database": check_database(), "redis": check_redis(), "celery": check_celery()}
