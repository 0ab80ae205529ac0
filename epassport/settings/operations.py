"""Operations: logs (cleaned of personal data) and the Prometheus metrics at /metrics."""

from .environment import env, networks

# Every log record is cleaned of email addresses, phone numbers, dates of birth and tokens
# (core/logs.py), whichever logger or handler (gunicorn's, Celery's) writes it.
LOGGING_CONFIG = "core.logs.configure_logging"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # A 409 (slot full) or 429 is an answer, not an incident: in a reopening rush there are
    # thousands a minute. Server errors are still logged.
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Operations: Prometheus metrics at /metrics ---------------------------------
# django-prometheus's request figures that operations read, by one middleware of ours, last
# (core/request_metrics.py: django-prometheus's two update twelve metrics per request),
# and its database figures (its PostgreSQL backend, a counter around each statement);
# production/metrics.py adds the portal's own figures and answers only to the addresses or
# networks of METRICS_ALLOWED_IPS (empty: nobody). With several gunicorn workers, set
# PROMETHEUS_MULTIPROC_DIR (an environment variable read by prometheus_client itself, see
# docs/operations.md) and start gunicorn with `-c python:epassport.gunicorn_conf`.
METRICS_ALLOWED_IPS = networks("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
