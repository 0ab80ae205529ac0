"""Sending SMS through a pluggable backend, like Django's email backends, and the countries
an SMS may go to: the outbox's second channel (core/outbox/delivery.py).

`settings.SMS_BACKEND` names the class. A real provider plugs in by subclassing
`BaseSmsBackend`, implementing `send` (raising on failure, so that the outbox retries) and
naming its class in SMS_BACKEND.
"""

import sys
import threading
import time
from pathlib import Path
from typing import TextIO

import phonenumbers
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.module_loading import import_string

from . import console


class BaseSmsBackend:
    def send(self, to: str, text: str) -> None:
        """Send `text` to the phone number `to` (E.164); raise if it could not be sent."""
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """Prints one line per SMS (development only): the number masked, the kind of message
    and its code where it has one (core/console.py). It is a way of delivering, not a log;
    under a Celery worker, whose output goes through logging, the line comes out cleaned
    like every log line (core/logs.py). Never where real applicants' messages flow."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, to: str, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(console.sms_line(to, text) + "\n")
        stream.flush()


class FileBackend(BaseSmsBackend):
    """Appends one line per SMS, `timestamp<TAB>to<TAB>text`, to settings.SMS_FILE_PATH."""

    # Threads of one worker share the file; lines are short and written in one call.
    _lock = threading.Lock()

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, to: str, text: str) -> None:
        # One SMS, one line: line breaks and tabs of the text become spaces.
        line = f"{timezone.now().isoformat()}\t{to}\t{' '.join(text.split())}\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write(line)


def get_backend(**kwargs: object) -> BaseSmsBackend:
    """An instance of the backend named by settings.SMS_BACKEND."""
    backend_class = import_string(settings.SMS_BACKEND)
    return backend_class(**kwargs)


# SMS go only to the numbers of the countries where the portal has offices: a number of any
# other country is refused by the forms and the API (appointments.validation.clean_phone)
# and, should one be in the outbox all the same, by the sender (core/outbox/delivery.py).
# SMS to far countries are paid by the ministry, and sending codes to numbers of an
# accomplice's premium range is how SMS pumping earns (README, "Notifications").
# SMS_ALLOWED_COUNTRIES names them; empty (the default), they are the countries of the
# active offices, read at use and kept by each process for SMS_COUNTRIES_SECONDS (and
# forgotten at once when this process changes an office), so that a booking costs no query
# for it.
SMS_COUNTRIES_SECONDS = 60.0
_offices_countries: tuple[float, frozenset[str]] | None = None


def sms_countries() -> frozenset[str]:
    """The ISO 3166-1 codes of the countries whose phone numbers receive SMS."""
    global _offices_countries
    if settings.SMS_ALLOWED_COUNTRIES:
        return frozenset(settings.SMS_ALLOWED_COUNTRIES)
    now = time.monotonic()
    if _offices_countries is None or _offices_countries[0] < now:
        from core.models import Office

        codes = Office.objects.filter(active=True).values_list("country", flat=True)
        _offices_countries = (now + SMS_COUNTRIES_SECONDS, frozenset(map(str, codes)))
    return _offices_countries[1]


def sms_allowed(e164: str) -> bool:
    """Whether an SMS may go to this number (E.164): its country is one of sms_countries().
    The country of the number itself, not of its calling code: +1 is the United States and
    Canada, but also Jamaica and a score of other countries."""
    try:
        number = phonenumbers.parse(e164 or "", None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_number(number) in sms_countries()


def offices_changed(**_kwargs) -> None:
    global _offices_countries
    _offices_countries = None


post_save.connect(offices_changed, sender="core.Office", dispatch_uid="sms_countries")
post_delete.connect(offices_changed, sender="core.Office", dispatch_uid="sms_countries")
