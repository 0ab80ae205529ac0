"""Messages to applicants: email, SMS (and the countries it goes to), the push of codes, and
the refusal to start with a backend that would only print them."""

from django.core.exceptions import ImproperlyConfigured

from .environment import BASE_DIR, DEBUG, env

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
# consolemail:// prints one line per email (core/console.py: the recipient masked, the kind,
# the code, the subject), not the whole message with its attachments in base64.
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    EMAIL_CONFIG["EMAIL_BACKEND"] = "core.console.EmailBackend"
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Passeport Premium <premium@localhost>")

# SMS: a backend class; ConsoleBackend prints, FileBackend appends to SMS_FILE_PATH. A real
# provider plugs in by naming its backend class here.
SMS_BACKEND = env.str("SMS_BACKEND", default="core.sms.ConsoleBackend")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=BASE_DIR / ".data" / "sms.log")

# --- Codes first, and SMS only where we serve (README, "Notifications") -------------------
# Countries (ISO 3166-1 codes, comma-separated: "ML,FR,SN,CI,US") whose phone numbers get
# SMS; the forms and the API refuse other numbers, the sender skips them. SMS abroad are
# paid by the ministry and are what SMS pumping feeds on. Empty (the default): the countries
# of the active offices, read when needed (core/sms.py).
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

# With DEBUG off, a console backend would print applicants' messages to a log instead of
# sending them: refuse to start, unless deliberately allowed (a demonstration, a benchmark).
ALLOW_CONSOLE_DELIVERY = env.bool("ALLOW_CONSOLE_DELIVERY", default=False)
CONSOLE_DELIVERY_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "EMAIL_URL",
    "core.console.EmailBackend": "EMAIL_URL",
    "core.sms.ConsoleBackend": "SMS_BACKEND",
    "appointments.sms.ConsoleBackend": "SMS_BACKEND",  # its name before the outbox moved
}
if not DEBUG and not ALLOW_CONSOLE_DELIVERY:
    for _backend in (EMAIL_CONFIG["EMAIL_BACKEND"], SMS_BACKEND):
        if _backend in CONSOLE_DELIVERY_BACKENDS:
            raise ImproperlyConfigured(
                f"{CONSOLE_DELIVERY_BACKENDS[_backend]} names a console backend ({_backend}) "
                "with DEBUG off: messages to applicants would only be printed. Configure a "
                "real one, or set ALLOW_CONSOLE_DELIVERY=true."
            )
