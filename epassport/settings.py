"""Settings of the e-passport Premium portal.

Every value that differs between machines comes from the environment (django-environ),
documented in the README's configuration table. Bad values are refused at start-up rather
than discovered by an applicant.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _networks(name: str, *, default: list[str]) -> list[str]:
    """A list of IP addresses or networks (CIDR) from the environment, refused at start when
    an entry is neither."""
    import ipaddress

    entries = env.list(name, default=default)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{name}: {entry!r} is not an IP address or network."
            ) from error
    return entries


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105 # nosec B105 # DEBUG only

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_countries",
    "csp",
    "core",
    "appointments",
    "production",
    "consulates",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every answer.
    "core.headers.ContentSecurityPolicyMiddleware",  # django-csp's, its header built once
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # A NUL byte in the path or the query, a body over the limit: refused before any view.
    "core.early_refusals.EarlyRefusalMiddleware",
    # The public applicant API passes this and the other core.public_api ones straight on.
    "core.public_api.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.public_api.AuthenticationMiddleware",
    "core.public_api.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "epassport.urls"
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:home"
LOGOUT_REDIRECT_URL = "staff:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "epassport.wsgi.application"

# Database: one PostgreSQL. `make run` / `make test` set DATABASE_URL to an embedded server
# when it is not given; elsewhere the default is the usual local server.
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://localhost:5432/epassport")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to a PostgreSQL database.")
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


def _celery_broker_url(redis_url: str) -> str:
    """Kombu spells a Redis unix socket `redis+socket:///path?virtual_host=N`."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        db = parse_qs(parts.query).get("db", ["0"])[0]
        return f"redis+socket://{parts.path}?virtual_host={db}"
    if parts.scheme not in ("redis", "rediss"):
        raise ImproperlyConfigured("REDIS_URL must be a redis://, rediss:// or unix:// URL.")
    return redis_url


CACHES = {
    "default": {
        "BACKEND": "core.cache.FailFastRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="epassport"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

CELERY_BROKER_URL = _celery_broker_url(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Notifications go through the outbox table; the one task a web request publishes (a
# hold's code, appointments/notifications.py) is tried once without waiting. Beat and the
# workers that publish give up quickly when Redis hangs, and try again at their next run.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
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
}
# A sender's claim on an outbox message lasts this long (appointments/delivery.py), and it
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
# A hung Redis must not hold requests: after a failure, cache calls fail at once for a few
# seconds (core/cache.py); rate limits and the challenge's replay check then let
# requests through, as they do when Redis refuses connections.
CACHES["default"]["BACKEND"] = "core.cache.FailFastRedisCache"
# --- end of Celery and faults ---------------------------------------------------------------
# How often beat sends the heartbeat, and how old it may be before /healthz reports Celery
# as down (two missed beats).
CELERY_HEARTBEAT_INTERVAL = env.int("CELERY_HEARTBEAT_INTERVAL", default=15)
CELERY_HEARTBEAT_MAX_AGE = env.int(
    "CELERY_HEARTBEAT_MAX_AGE", default=max(60, 3 * CELERY_HEARTBEAT_INTERVAL)
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation: French first, English second. Times are stored in UTC and shown in
# each office's own timezone.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Africa/Bamako"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Passeport Premium <premium@localhost>")

# Public address of the portal, for the links in emails, SMS, calendar files and PDFs.
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000").rstrip("/")

# Booking protection: proof-of-work challenge (altcha, no third party) and per-IP rate
# limits in Redis. Both on unless turned off (benchmarks, tests of other behaviour).
BOOKING_CHALLENGE = env.bool("BOOKING_CHALLENGE", default=True)
BOOKING_CHALLENGE_MAX_NUMBER = env.int("BOOKING_CHALLENGE_MAX_NUMBER", default=100_000)
RATE_LIMITS = env.bool("RATE_LIMITS", default=True)
# Generous: many applicants may share one carrier-grade NAT address.
BOOKING_RATE = env.str("BOOKING_RATE", default="60/m")
AVAILABILITY_RATE = env.str("AVAILABILITY_RATE", default="600/m")
LOGIN_RATE = env.str("LOGIN_RATE", default="10/m")
RATELIMIT_USE_CACHE = "default"
# Always on for django-ratelimit itself: appointments.protection checks RATE_LIMITS at each
# request, so that tests and operators have one switch.
RATELIMIT_ENABLE = True

# --- touts and bots: contact verification, the challenge's rate ----------------
# A new booking holds its seat as `pending` for 15 minutes until the applicant enters the
# 6-digit code sent by SMS and email (appointments/services/verification.py). On unless
# turned off (tests and benchmarks turn it off).
BOOKING_VERIFY_CONTACT = env.bool("BOOKING_VERIFY_CONTACT", default=True)
# Proof-of-work challenges handed to one address (each booking needs one of its own).
BOOKING_CHALLENGE_RATE = env.str("BOOKING_CHALLENGE_RATE", default="60/m")
# Bounds on pending holds, counted in PostgreSQL (services/holds.py). Besides one hold at a
# time per identity number, phone and mailbox: holds waiting for their code from one /24
# IPv4 or /48 IPv6 network. A person confirms within a minute or two, so this many at once
# is a steady stream of bookings from one network, while a bot that never confirms holds no
# more than this per network (README, "Holds and their bounds").
HOLDS_PER_NETWORK = env.int("HOLDS_PER_NETWORK", default=16)
# Wrong codes per identity number over a rolling day, past which no hold may replace its
# booking; moves of one booking by its holder.
CODE_FAILURES_PER_NINA = env.int("CODE_FAILURES_PER_NINA", default=5)
MAX_MOVES = env.int("MAX_MOVES", default=3)
for _name in ("HOLDS_PER_NETWORK", "CODE_FAILURES_PER_NINA", "MAX_MOVES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
# --- end of touts and bots -------------------------------------------------------

# --- Waiting room at a reopening (appointments/waiting_room/; README, "Waiting room at a
# reopening"). For WAITING_ROOM_MINUTES before and after an office's reopening, booking there
# needs an admission; people are admitted at WAITING_ROOM_RATE per second (a starting value:
# administrators change each line's rate on the backlog dashboard); an admission is good for
# ADMISSION_MINUTES. Past WAITING_ROOM_PER_NETWORK places of one /24 IPv4 or /48 IPv6 network
# in a line (sized for a mobile operator's carrier-grade NAT, README), a new place goes to the
# back of the line; one address (IPv4, or the /64 of IPv6) takes at most
# WAITING_ROOM_PER_ADDRESS places (a family's or a cyber-café's NAT), then is refused. Nobody
# is admitted for whom no seat is left: an admitted place that has not booked keeps its seat
# WAITING_ROOM_GRACE_SECONDS at least (waiting_room/seats.py).
WAITING_ROOM_MINUTES = env.int("WAITING_ROOM_MINUTES", default=30)
WAITING_ROOM_RATE = env.float("WAITING_ROOM_RATE", default=20.0)
WAITING_ROOM_PER_NETWORK = env.int("WAITING_ROOM_PER_NETWORK", default=256)
WAITING_ROOM_PER_ADDRESS = env.int("WAITING_ROOM_PER_ADDRESS", default=16)
ADMISSION_MINUTES = env.int("ADMISSION_MINUTES", default=10)
WAITING_ROOM_GRACE_SECONDS = env.int("WAITING_ROOM_GRACE_SECONDS", default=120)
# At most this many admitted places booking at once (admitted, not booked yet, within their
# grace): admissions follow the pace at which people really book (0: no such bound).
WAITING_ROOM_IN_PROGRESS = env.int("WAITING_ROOM_IN_PROGRESS", default=400)
if WAITING_ROOM_IN_PROGRESS < 0:
    raise ImproperlyConfigured("WAITING_ROOM_IN_PROGRESS must be >= 0 (0: no bound).")
if WAITING_ROOM_GRACE_SECONDS < 1:
    raise ImproperlyConfigured("WAITING_ROOM_GRACE_SECONDS must be >= 1.")
if WAITING_ROOM_MINUTES < 0 or WAITING_ROOM_RATE < 0:
    raise ImproperlyConfigured("WAITING_ROOM_MINUTES and WAITING_ROOM_RATE must not be negative.")
if WAITING_ROOM_PER_NETWORK < 1 or WAITING_ROOM_PER_ADDRESS < 1 or ADMISSION_MINUTES < 1:
    raise ImproperlyConfigured(
        "WAITING_ROOM_PER_NETWORK, WAITING_ROOM_PER_ADDRESS and ADMISSION_MINUTES must be >= 1."
    )
# --- end of the waiting room ---------------------------------------------------------------

# The Premium promise: working days from enrolment to the passport being ready, and the
# working days a mission's passports spend in the diplomatic pouch on top.
PREMIUM_DUE_WORKING_DAYS = env.int("PREMIUM_DUE_WORKING_DAYS", default=3)
PREMIUM_POUCH_WORKING_DAYS = env.int("PREMIUM_POUCH_WORKING_DAYS", default=5)

# Tracking (/suivi/, /api/v1/track/) and its estimated ready date (production/estimate.py):
# working days from the day a file is taken into production to its passport being ready at
# the centre; a pouch's travel time in days until a mission has POUCH_TRAVEL_MIN_SAMPLES
# received shipments (then the median of its last POUCH_TRAVEL_SAMPLES); how long each
# process keeps the queues and calendars the estimate reads.
PRODUCTION_WORKING_DAYS = env.int("PRODUCTION_WORKING_DAYS", default=1)
POUCH_TRAVEL_DAYS = env.int("POUCH_TRAVEL_DAYS", default=3)
POUCH_TRAVEL_SAMPLES = env.int("POUCH_TRAVEL_SAMPLES", default=10)
POUCH_TRAVEL_MIN_SAMPLES = env.int("POUCH_TRAVEL_MIN_SAMPLES", default=5)
TRACKING_SCHEDULE_TTL = env.int("TRACKING_SCHEDULE_TTL", default=60)
# Lookups per address, and per reference whatever the address: a reference alone, with
# dates of birth tried one after another, must not be guessable.
TRACK_RATE = env.str("TRACK_RATE", default="30/m")
TRACK_REFERENCE_RATE = env.str("TRACK_REFERENCE_RATE", default="10/h")
# How long a tracking link sent to an applicant's contacts works (production/tracking.py).
TRACK_LINK_HOURS = env.int("TRACK_LINK_HOURS", default=24)
if TRACK_LINK_HOURS < 1:
    raise ImproperlyConfigured("TRACK_LINK_HOURS must be at least 1.")
# After a reopening, this share of the seats of the first working days is held back for the
# appointments a suspension displaced, until they are all rebooked.
DISPLACED_RESERVED_SHARE = env.float("DISPLACED_RESERVED_SHARE", default=0.5)
DISPLACED_RESERVED_WORKING_DAYS = env.int("DISPLACED_RESERVED_WORKING_DAYS", default=5)
if not 0 <= DISPLACED_RESERVED_SHARE <= 1:
    raise ImproperlyConfigured("DISPLACED_RESERVED_SHARE must be between 0 and 1.")
if DISPLACED_RESERVED_WORKING_DAYS < 0:
    raise ImproperlyConfigured("DISPLACED_RESERVED_WORKING_DAYS must not be negative.")

# SMS: a backend class; ConsoleBackend prints, FileBackend appends to SMS_FILE_PATH. A real
# provider plugs in by naming its backend class here.
SMS_BACKEND = env.str("SMS_BACKEND", default="appointments.sms.ConsoleBackend")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=BASE_DIR / ".data" / "sms.log")

# --- Codes first, and SMS only where we serve (README, "Notifications") -------------------
# Countries (ISO 3166-1 codes, comma-separated: "ML,FR,SN,CI,US") whose phone numbers get
# SMS; the forms and the API refuse other numbers, the sender skips them. SMS abroad are
# paid by the ministry and are what SMS pumping feeds on. Empty (the default): the countries
# of the active offices, read when needed (appointments/validation.py).
SMS_ALLOWED_COUNTRIES = [
    code.strip().upper() for code in env.list("SMS_ALLOWED_COUNTRIES", default=[]) if code.strip()
]


def _check_countries(codes: list[str]) -> list[str]:
    import phonenumbers

    unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise ImproperlyConfigured(
            f"SMS_ALLOWED_COUNTRIES: {', '.join(unknown)} is not a country code with phone "
            f"numbers (ISO 3166-1 alpha-2, e.g. ML,FR)."
        )
    return codes


SMS_ALLOWED_COUNTRIES = _check_countries(SMS_ALLOWED_COUNTRIES)
# A hold's code is pushed to a worker when its booking commits (the task outbox_deliver on
# the notifications queue, appointments/notifications.py), so that it leaves within seconds
# rather than at the next sweep; the sweep still sends it if the push is lost. `false`:
# codes wait for the sweep like every other message.
OUTBOX_PUSH = env.bool("OUTBOX_PUSH", default=True)
CELERY_TASK_ROUTES["appointments.outbox_deliver"] = {"queue": CELERY_NOTIFICATIONS_QUEUE}
# --- end of codes first ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.parsers.ContentNegotiation",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "e-passport Premium API",
    "DESCRIPTION": "Premium e-passport appointments and passport files.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: no CDN, no third-party request.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "appointments.models.Appointment.Status",
        "OfficeKindEnum": "core.models.Office.Kind",
        "LanguageEnum": "appointments.models.Appointment.Language",
    },
}

# Production defaults and headers ------------------------------------------------
# With DEBUG off, `manage.py check --deploy` is silent with only SECRET_KEY and ALLOWED_HOSTS
# (and ALLOW_CONSOLE_DELIVERY, or real delivery backends) set.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The load balancer's probe and Prometheus may come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
# How many proxies of ours stand in front of the portal, each appending the address it saw
# to X-Forwarded-For: 0, REMOTE_ADDR is the client; 1, the last hop; 2 (a CDN, then our
# proxy), the one before it. The hops before those were written by the client itself.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must not be negative.")
# Behind the TLS proxy, with no hop trusted, every client would be the proxy's address: one
# booking budget for the whole country and one lockout for all staff.
if SECURE_PROXY_SSL_HEADER and TRUSTED_PROXY_COUNT == 0:
    raise ImproperlyConfigured(
        "BEHIND_TLS_PROXY=true needs TRUSTED_PROXY_COUNT (1 behind one reverse proxy): "
        "without it every client would share the proxy's address, its rate limits and "
        "its login lockout."
    )
# The addresses our proxies connect from (CIDR list): X-Forwarded-For is read only on a
# connection from one of them, so that where gunicorn can be reached without the proxy, a
# client cannot choose its own address.
TRUSTED_PROXIES = _networks("TRUSTED_PROXIES", default=["127.0.0.1/32", "::1/128"])

# Content-Security-Policy (django-csp): our own files only, no inline script, style or event
# handler anywhere (tests/test_headers.py reads the templates; the browser tests fail on any
# violation in the console). data: images for the icons in Swagger UI's stylesheet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): no page of the portal uses these.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

# With DEBUG off, a console backend would print applicants' messages to a log instead of
# sending them: refuse to start, unless deliberately allowed (a demonstration, a benchmark).
ALLOW_CONSOLE_DELIVERY = env.bool("ALLOW_CONSOLE_DELIVERY", default=False)
CONSOLE_DELIVERY_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "EMAIL_URL",
    "appointments.sms.ConsoleBackend": "SMS_BACKEND",
}
if not DEBUG and not ALLOW_CONSOLE_DELIVERY:
    for _backend in (EMAIL_CONFIG["EMAIL_BACKEND"], SMS_BACKEND):
        if _backend in CONSOLE_DELIVERY_BACKENDS:
            raise ImproperlyConfigured(
                f"{CONSOLE_DELIVERY_BACKENDS[_backend]} names a console backend ({_backend}) "
                "with DEBUG off: messages to applicants would only be printed. Configure a "
                "real one, or set ALLOW_CONSOLE_DELIVERY=true."
            )
# End of the production defaults and headers -----------------------------------------------

# --- Personal data ---------------------------------------------------------
# Identity data is erased (production.retention, the daily task "personal data erasure")
# this many days after the slot of an appointment that led to no passport file, and after
# the delivery of a passport file (with its appointment).
RETENTION_APPOINTMENT_DAYS = env.int("RETENTION_APPOINTMENT_DAYS", default=90)
RETENTION_FILE_DAYS = env.int("RETENTION_FILE_DAYS", default=730)
RETENTION_REJECTED_DAYS = env.int("RETENTION_REJECTED_DAYS", default=365)
RETENTION_UNCOLLECTED_DAYS = env.int("RETENTION_UNCOLLECTED_DAYS", default=730)
if (
    min(
        RETENTION_APPOINTMENT_DAYS,
        RETENTION_FILE_DAYS,
        RETENTION_REJECTED_DAYS,
        RETENTION_UNCOLLECTED_DAYS,
    )
    < 0
):
    raise ImproperlyConfigured("RETENTION_*_DAYS must not be negative.")
# Every log record is cleaned of email addresses, phone numbers, dates of birth and tokens
# (core/logs.py), whichever logger or handler (gunicorn's, Celery's) writes it.
LOGGING_CONFIG = "core.logs.configure_logging"
# --- end of personal data ----------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # A 409 (slot full) or 429 is an answer, not an incident: in a reopening rush there are
    # thousands a minute. Server errors are still logged.
    "loggers": {"django.request": {"level": "ERROR"}},
}


# Staff logins ---------------------------------------------------------------------
# Lockout (django-axes), two-factor authentication (django-otp, TOTP) for supervisors and
# administrators, the admin's path, staff session lifetimes and API token lifetime.
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = (
    "core.admin_apps.PortalAdminConfig"  # the admin site asks the second factor too
)
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp"]


def _after(existing: str, new: str) -> None:
    MIDDLEWARE.insert(MIDDLEWARE.index(existing) + 1, new)


# OTPMiddleware right after authentication (request.user.is_verified()); the staff session
# rules once messages exist (they say why a session ended); axes last, as its docs ask.
_after("core.public_api.AuthenticationMiddleware", "core.public_api.OTPMiddleware")
_after("core.public_api.MessageMiddleware", "core.public_api.StaffSessionMiddleware")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked account or address
    "django.contrib.auth.backends.ModelBackend",
]
# A failure counts against the pair (username, address) and against the address (the /64
# of an IPv6 address, taken as the rate limits take it), never against a username alone
# (anyone could lock staff out); addresses in STAFF_NETWORKS (the ministry's and offices'
# networks, CIDR list) are never locked as a whole (core/lockout.py).
STAFF_NETWORKS = _networks("STAFF_NETWORKS", default=[])
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = "core.lockout.lockout_parameters"
AXES_VERBOSE = False  # no banner on every start (check --deploy stays silent)
AXES_CLIENT_IP_CALLABLE = "core.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"
# Tries during a lockout neither count nor extend it: the lockout ends when announced.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Never written into the attempts table in clear.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "otp", "csrfmiddlewaretoken"]
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME.total_seconds() <= 0:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be positive.")

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Passeport Premium")
# How long the one-time code an administrator gives for enrolling an authenticator app is
# valid (core/services.py).
ENROLMENT_CODE_HOURS = env.int("ENROLMENT_CODE_HOURS", default=24)
if ENROLMENT_CODE_HOURS < 1:
    raise ImproperlyConfigured("ENROLMENT_CODE_HOURS must be at least 1.")

# The Django admin, at a path of its own choosing (`admin/` by default, under the language
# prefix like every page for people).
ADMIN_URL = env.str("ADMIN_URL", default="admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/") or "//" in ADMIN_URL:
    raise ImproperlyConfigured("ADMIN_URL must be a relative path ending with /, e.g. admin/.")

# A staff session ends after STAFF_SESSION_IDLE_MINUTES without a request and, whatever the
# activity, STAFF_SESSION_MAX_HOURS after the login (core/staff_sessions.py).
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=12)
if STAFF_SESSION_IDLE_MINUTES < 1 or STAFF_SESSION_MAX_HOURS < 1:
    raise ImproperlyConfigured("STAFF_SESSION_* lifetimes must be positive.")
SESSION_COOKIE_AGE = STAFF_SESSION_MAX_HOURS * 3600

# Tokens of the staff API expire this many hours after they are issued, and a new password
# revokes them (core/tokens.py).
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=12)
if API_TOKEN_TTL_HOURS < 1:
    raise ImproperlyConfigured("API_TOKEN_TTL_HOURS must be positive.")


# --- Operations: Prometheus metrics at /metrics ---------------------------------
# django-prometheus's request figures that operations read, by one middleware of ours, last
# (core/request_metrics.py: django-prometheus's two update twelve metrics per request),
# and its database figures (its PostgreSQL backend, a counter around each statement);
# production/metrics.py adds the portal's own figures and answers only to the addresses or
# networks of METRICS_ALLOWED_IPS (empty: nobody). With several gunicorn workers, set
# PROMETHEUS_MULTIPROC_DIR (an environment variable read by prometheus_client itself, see
# docs/operations.md) and start gunicorn with `-c python:epassport.gunicorn_conf`.
INSTALLED_APPS += ["django_prometheus"]
MIDDLEWARE.append("core.request_metrics.RequestMetricsMiddleware")  # keep it last
# django-prometheus's backend, with a health check that a busy connection skips
# (core/postgresql/base.py).
DATABASES["default"]["ENGINE"] = "core.postgresql"
METRICS_ALLOWED_IPS = _networks("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
