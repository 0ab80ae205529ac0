"""SMS providers for tests, named in SMS_BACKEND by their dotted path."""

import threading

from core import sms


class RecordingBackend(sms.BaseSmsBackend):
    """A provider plugged in through SMS_BACKEND, keeping what it is asked to send."""

    sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        RecordingBackend.sent.append((to, text))


class BrokenProviderBackend(sms.BaseSmsBackend):
    def send(self, to: str, text: str) -> None:
        raise ConnectionError("SMS gateway unreachable")


class MeetingBackend(RecordingBackend):
    """Each thread, on its first SMS, waits (with that message claimed) until another
    thread sends its first one too: two sweeps are then provably sending at the same
    instant. Were a claim waited for, the barrier would break and the SMS would fail; were
    a claimed message still due for the other sweep, it would be sent twice. Set `barrier`
    first."""

    barrier = threading.Barrier(2)
    met = threading.local()

    def send(self, to: str, text: str) -> None:
        if not getattr(MeetingBackend.met, "done", False):
            MeetingBackend.met.done = True
            MeetingBackend.barrier.wait(timeout=15)
        super().send(to, text)
