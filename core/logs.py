"""No log line holds an applicant's email address, phone number, date of birth or a secret
token.

Every log record of the process is cleaned when it is made, whatever logger makes it and
whatever handler writes it: Django's (a 404 or a 500 names the path, and the manage link's
path carries its token: /rendez-vous/<reference>/<token>/), gunicorn's access log (the
request line and the referer), Celery's (a worker's stdout goes through logging), ours. A
record factory (logging.setLogRecordFactory) does it rather than a filter: a filter applies
only to the handlers or loggers it is attached to, and gunicorn and Celery attach their own.

It is installed by `configure_logging`, Django's LOGGING_CONFIG (settings), so by
`django.setup()` in every process: web (runserver, gunicorn workers), Celery worker and beat,
management commands. The rules are a last line of defence: code does not log these values
in the first place (core/outbox/delivery.py names a message by its id).
"""

import logging
import logging.config
import re

# (pattern, replacement), applied in this order. Tokens: the manage link's (32 characters of
# token_urlsafe, or 64 hexadecimal digits for a rebooked appointment's) in a path, and any
# value named manage_token or booking_token (a payload, the X-Booking-Token header).
RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(/rendez-vous/[^/\s?#\"'<>]+/)[^/\s?#\"'<>]+"), r"\1[token]"),
    # A waiting-room place's credential, in the API's path (appointments/waiting_room/).
    (re.compile(r"(/waiting-room/[^/\s?#\"'<>]+/)[^/\s?#\"'<>]+"), r"\1[ticket]"),
    (
        re.compile(r"((?:manage|booking)[_-]?token['\"]?\s*[:=]\s*['\"]?)[\w\-]+", re.IGNORECASE),
        r"\1[token]",
    ),
    # Dates of birth are the proof of the tracking lookups (/suivi/?...&birth_date=...), also
    # as the forms' three fields (birth_date_day=..., birth_date_month=..., birth_date_year=...).
    (
        re.compile(r"(birth_date(?:_day|_month|_year)?['\"]?\s*[:=]\s*['\"]?)[\w\-]+", re.I),
        r"\1[date]",
    ),
    (re.compile(r"[\w.%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"), "[email]"),
    # E.164, as the portal stores phone numbers (appointments.validation.E164_PATTERN).
    (re.compile(r"\+[1-9][0-9]{6,14}(?![0-9])"), "[phone]"),
]


def redact(text: str) -> str:
    """`text` with every email address, phone number, date of birth and token masked."""
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Clean a record in place: its message (formatted once, here, when anything in it must
    go), its traceback and its stack."""
    try:
        message = record.getMessage()
    except Exception:  # bad arguments: keep them readable, cleaned, rather than lose them
        message = f"{record.msg} {record.args!r}"
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        # Formatters use exc_text when it is set: the traceback is written cleaned.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Make every log record of this process pass through redact_record (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    factory.redacts = True
    logging.setLogRecordFactory(factory)


def configure_logging(config: dict) -> None:
    """Django's LOGGING_CONFIG: the redaction, then settings.LOGGING."""
    install()
    logging.config.dictConfig(config)
