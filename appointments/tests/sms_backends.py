"""SMS providers for tests, named in SMS_BACKEND by their dotted path."""

import threading

from appointments import sms


class RecordingBackend(sms.BaseSmsBackend):
    """A provider plugged in through SMS_BACKEND, keeping what it is asked to send."""

    sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        RecordingBackend.sent.append((to, text))


class BrokenProviderBackend(sms.BaseSmsBackend):
    def send(self, to: str, text: str) -> None:
        raise ConnectionError("SMS gateway unreachable")


class MeetingBackend(RecordingBackend):
    """Each thread, on its first SMS, waits (holding that message's row lock) until another
    thread sends its first one too: two sweeps are then provably sending at the same
    instant. Were locked rows not skipped, the second sweep would wait on the first one's
    row instead, the barrier would break and the SMS would fail. Set `barrier` first."""

    barrier = threading.Barrier(2)
    met = threading.local()

    def send(self, to: str, text: str) -> None:
        if not getattr(MeetingBackend.met, "done", False):
            MeetingBackend.met.done = True
            MeetingBackend.barrier.wait(timeout=15)
        super().send(to, text)
