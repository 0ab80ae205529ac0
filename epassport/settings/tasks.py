"""Celery: the broker, the three queues, what happens when a worker or Redis fails, time
limits, and the heartbeat that /healthz reads."""

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from .data import REDIS_URL, celery_broker_url
from .environment import env

CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Notifications go through the outbox table; the one task a web request publishes (a
# hold's code, appointments/notifications.py) is tried once without waiting. Beat and the
# workers that publish give up quickly when Redis hangs, and try again at their next run.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 2,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Celery and faults ---------------------------------------------------------
# Every task is idempotent (a second run changes nothing the first did), so a task is acked
# only once it has run (acks late) and handed back to the queue when the process running it
# dies (reject on worker lost): a worker killed mid-task loses no work, it is done again.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A broker connection lost mid-task: let the task finish (killing it mid-send is worse);
# should its ack be lost with the connection, it runs again, harmlessly.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Redis down for long: workers keep trying to reconnect, never give up and exit.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Three queues (docs/operations.md): notifications wait on the mail server and the SMS
# provider, the backlog's long set-based runs on PostgreSQL, the rest is short. A worker
# started without -Q serves all three; in production each has workers of its own.
CELERY_NOTIFICATIONS_QUEUE = "notifications"
CELERY_BACKLOG_QUEUE = "backlog"
CELERY_TASK_QUEUES = [
    Queue(name)
    for name in (CELERY_TASK_DEFAULT_QUEUE, CELERY_NOTIFICATIONS_QUEUE, CELERY_BACKLOG_QUEUE)
]
CELERY_TASK_ROUTES = {
    "appointments.outbox_sweep": {"queue": CELERY_NOTIFICATIONS_QUEUE},
    "production.backlog_run": {"queue": CELERY_BACKLOG_QUEUE},
    "production.backlog_snapshot": {"queue": CELERY_BACKLOG_QUEUE},
    "production.retention_erase": {"queue": CELERY_BACKLOG_QUEUE},
    "appointments.slots_generate": {"queue": CELERY_BACKLOG_QUEUE},
    # A hold's code, pushed when its booking commits (notifications.py, OUTBOX_PUSH).
    "appointments.outbox_deliver": {"queue": CELERY_NOTIFICATIONS_QUEUE},
}
# A sender's claim on an outbox message lasts this long (core/outbox/delivery.py), and it
# is the hard time limit of the outbox sweep: when a claim lapses, its sender has finished
# or been killed, so a message is never sent by two workers at once.
OUTBOX_CLAIM_SECONDS = env.int("OUTBOX_CLAIM_SECONDS", default=300)
if OUTBOX_CLAIM_SECONDS < 5:
    raise ImproperlyConfigured("OUTBOX_CLAIM_SECONDS must be at least 5.")
# Time limits (soft: the task is told and stops cleanly; hard: its process is killed), in
# seconds. A run cut short leaves only whole chunks done, finished by the next run.
CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT = 50, 60  # any task not named below
TASK_TIME_LIMITS = {
    "appointments.outbox_sweep": (OUTBOX_CLAIM_SECONDS * 4 // 5, OUTBOX_CLAIM_SECONDS),
    "appointments.booking_reminders": (540, 600),
    "appointments.slots_generate": (1_500, 1_800),
    "production.backlog_run": (1_500, 1_800),
    "production.backlog_snapshot": (240, 300),
    "production.retention_erase": (3_300, 3_600),
}
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": soft, "time_limit": hard}
    for name, (soft, hard) in TASK_TIME_LIMITS.items()
}
# Redis hands a message that a worker took and never acked (the worker died) to another
# one after the visibility timeout: it must be longer than the longest task may run, or a
# long task would be started a second time while the first still runs.
CELERY_LONGEST_TIME_LIMIT = max(
    [CELERY_TASK_TIME_LIMIT, *(hard for _soft, hard in TASK_TIME_LIMITS.values())]
)
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=7_200)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_LONGEST_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT must be above the longest task's time limit "
        f"({CELERY_LONGEST_TIME_LIMIT} s)."
    )
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = CELERY_VISIBILITY_TIMEOUT

# How often beat sends the heartbeat, and how old it may be before /healthz reports Celery
# as down (two missed beats).
CELERY_HEARTBEAT_INTERVAL = env.int("CELERY_HEARTBEAT_INTERVAL", default=15)
CELERY_HEARTBEAT_MAX_AGE = env.int(
    "CELERY_HEARTBEAT_MAX_AGE", default=max(60, 3 * CELERY_HEARTBEAT_INTERVAL)
)
