"""SMS providers for tests, named in SMS_BACKEND by their dotted path."""

from appointments import sms


class RecordingBackend(sms.BaseSmsBackend):
    """A provider plugged in through SMS_BACKEND, keeping what it is asked to send."""

    sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        RecordingBackend.sent.append((to, text))


class BrokenProviderBackend(sms.BaseSmsBackend):
    def send(self, to: str, text: str) -> None:
        raise ConnectionError("SMS gateway unreachable")
