"""PostgreSQL and Redis."""

from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

from .environment import env

# Database: one PostgreSQL. `make run` / `make test` set DATABASE_URL to an embedded server
# when it is not given; elsewhere the default is the usual local server.
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://localhost:5432/epassport")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to a PostgreSQL database.")
# django-prometheus's backend (a counter around each statement), with a health check that a
# busy connection skips (core/postgresql/base.py).
DATABASES["default"]["ENGINE"] = "core.postgresql"
# Persistent connections: a booking rush served 91 requests/s with a new
# connection per request and 247/s with connections kept 60 s. The health check at the
# start of each request replaces a connection the server dropped (a restart, a fail-over)
# instead of failing the request on it; it is skipped on a connection that served a request
# less than a second ago (core/postgresql/base.py). Celery workers keep none: Celery's
# Django fix-up closes them before and after each task (tests/test_db_connections.py).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: Celery's broker and Django's cache. Accepts redis://, rediss:// and unix:// URLs.
REDIS_URL = env.str("REDIS_URL", default="redis://localhost:6379/0")


def celery_broker_url(redis_url: str) -> str:
    """Kombu spells a Redis unix socket `redis+socket:///path?virtual_host=N`."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        db = parse_qs(parts.query).get("db", ["0"])[0]
        return f"redis+socket://{parts.path}?virtual_host={db}"
    if parts.scheme not in ("redis", "rediss"):
        raise ImproperlyConfigured("REDIS_URL must be a redis://, rediss:// or unix:// URL.")
    return redis_url


# A hung Redis must not hold requests: after a failure, cache calls fail at once for a few
# seconds (core/cache.py); rate limits and the challenge's replay check then let
# requests through, as they do when Redis refuses connections.
CACHES = {
    "default": {
        "BACKEND": "core.cache.FailFastRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="epassport"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
