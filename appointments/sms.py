"""Sending SMS through a pluggable backend, like Django's email backends.

`settings.SMS_BACKEND` names the class. A real provider plugs in by subclassing
`BaseSmsBackend`, implementing `send` (raising on failure, so that the outbox retries) and
naming its class in SMS_BACKEND.
"""

import sys
import threading
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class BaseSmsBackend:
    def send(self, to: str, text: str) -> None:
        """Send `text` to the phone number `to` (E.164); raise if it could not be sent."""
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """Prints each SMS (development only): whole, manage link and token included, for the
    developer to follow. It is a way of delivering, not a log; under a Celery worker, whose
    output goes through logging, the line comes out cleaned like every log line
    (core/logs.py). Never where real applicants' messages flow."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, to: str, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"SMS to {to}: {text}\n")
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
