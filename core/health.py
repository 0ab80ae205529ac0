"""Liveness of the portal's three dependencies, for /healthz and for operators.

Each check answers "ok" or "error", nothing more: /healthz is public, and an exception's text
(a host name, a socket path, a version) is for the log, not for whoever asks."""

import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "celery:heartbeat"
OK, ERROR = "ok", "error"


def record_heartbeat(*, now: float | None = None) -> None:
    """Called by the heartbeat task: the worker ran a task that beat sent."""
    cache.set(HEARTBEAT_KEY, now if now is not None else time.time(), timeout=24 * 3600)


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure is reported, never raised to the caller
        logger.warning("health: the database does not answer", exc_info=True)
        return ERROR
    return OK


def check_redis() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception:
        logger.warning("health: Redis does not answer", exc_info=True)
        return ERROR
    return OK


def check_celery(*, now: float | None = None) -> str:
    """ok when beat's heartbeat task has been run by a worker recently enough."""
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception:
        logger.warning("health: the Celery heartbeat is unreadable", exc_info=True)
        return ERROR
    if beat is None:
        logger.warning("health: no heartbeat from the worker yet (are worker and beat up?)")
        return ERROR
    age = (now if now is not None else time.time()) - float(beat)
    if age > settings.CELERY_HEARTBEAT_MAX_AGE:
        logger.warning("health: last heartbeat %d s ago (worker or beat down?)", age)
        return ERROR
    return OK


def static_manifest_problem() -> str | None:
    """Why the pages could not name their static files, or None: with DEBUG off they are
    served under hashed names read from the manifest `collectstatic` writes, and a page
    whose file has no entry answers 500."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return None
    try:
        entries, _hash = storage.load_manifest()  # (hashed names, manifest hash)
    except Exception as error:  # a manifest that cannot be read is as good as none
        return f"the static files manifest cannot be read ({error.__class__.__name__})"
    if not entries:
        return (
            f"no static files manifest in STATIC_ROOT ({settings.STATIC_ROOT}): run "
            "`python manage.py collectstatic --noinput` before starting the portal"
        )
    return None


def check_static() -> str:
    problem = static_manifest_problem()
    if problem:
        logger.warning("health: %s", problem)
        return ERROR
    return OK


def report() -> dict[str, str]:
    return {
        "database": check_database(),
        "redis": check_redis(),
        "celery": check_celery(),
        "static": check_static(),
    }
