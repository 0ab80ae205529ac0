"""Each app registers what its messages say (core.outbox.kinds): a kind sent first says so
by its name, a kind nobody registered is refused when written and abandoned, with its reason
recorded, when found at sending time."""

import pytest

from appointments import notifications
from appointments.tests.factories import book
from core.models import FIRST_KIND_SUFFIX, OutboxMessage
from core.outbox import delivery, kinds

BOOKING_EVENTS = (
    "code",
    "confirmed",
    "rescheduled",
    "cancelled",
    "displaced",
    "rebooked",
    "reminder",
    "guessing",
)


def _kind(name: str, *, first: bool) -> kinds.Kind:
    return kinds.Kind(name=name, sms=str, context=dict, template="none", first=first)


def test_each_app_registers_its_own_kinds():
    names = kinds.names()
    assert set(names) == {
        *(f"booking_{event}" for event in BOOKING_EVENTS),
        *(f"file_{step}" for step in ("on_hold", "released", "in_transit", "ready", "rejected")),
        "track_link",
    }
    assert kinds.get("booking_confirmed").template == "appointments/email/booking_confirmed"
    assert kinds.get("file_ready").template == "production/email/file_ready"
    assert kinds.get("track_link").secrets == ("track_token",)
    # The first kinds are those the name says, whichever app registers them.
    assert [name for name in names if kinds.get(name).first] == ["booking_code"]
    assert all(kinds.get(n).first == n.endswith(FIRST_KIND_SUFFIX) for n in names)


@pytest.mark.parametrize(("name", "first"), [("file_ready_soon", True), ("pin_code", False)])
def test_a_kind_whose_priority_disagrees_with_its_name_is_refused(name, first):
    with pytest.raises(ValueError, match="sent first if and only if its name ends"):
        kinds.register(_kind(name, first=first))
    assert not kinds.registered(name)


def test_a_kind_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register(_kind("booking_confirmed", first=False))
    kinds.register(kinds.get("booking_confirmed"))  # the same again (ready() twice): no change


@pytest.mark.django_db
def test_writing_a_message_of_an_unknown_kind_is_refused():
    appointment, _token = book()
    with pytest.raises(ValueError, match="unknown notification kind"):
        notifications.enqueue(appointment=appointment, kind="file_lost", key="k")


@pytest.mark.django_db
def test_a_message_of_an_unregistered_kind_is_abandoned_at_once_with_its_reason(caplog):
    appointment, _token = book()
    OutboxMessage.objects.all().delete()  # the booking's confirmation: not this test's
    message = OutboxMessage.objects.create(
        channel="email",
        kind="file_retired",
        appointment_id=appointment.pk,
        recipient="awa@example.org",
        payload={"manage_token": "secret"},
        idempotency_key="retired",
    )

    assert delivery.outbox_sweep() == 0
    assert delivery.outbox_sweep() == 0  # not retried: nothing a retry could change

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error == delivery.UNKNOWN_KIND
    assert message.payload == {}  # its secrets are not known: none is kept
    assert "no app registered its kind" in caplog.text
