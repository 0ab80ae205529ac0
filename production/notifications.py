"""Which steps of a passport file its applicant is told of: the one home of that rule.

The applicant gets an email and an SMS (written by appointments.notifications into core's
outbox; what they say is production.messages') when the file is put on hold, when it leaves
`on_hold` for any other status (released), when it is sent to a mission (`in_transit`),
when it is `ready` and when it is `rejected` (with the reason). A file is told through its
appointment (PassportFile.appointment): one without appointment gets no message, and the
outbox has no key to this app (it sits below it). What the message tells of the file is
carried in its payload, as the file was at that step.

Each message's idempotency key is the file's step: `file:<file id>:<status>:<event id>`.
The event id keeps apart two holds of the same file by two suspensions; the same event
written again adds nothing.

`file_transition` (production.services: the staff's moves, in bulk too, and the pouches of
consulates.services) calls `file_notify` for every event it writes; the set-based holds
and releases of the backlog (production/sql/hold.sql, release.sql) write their messages in
their own statement, with the kind this rule gives (production.backlog).
"""

from appointments import notifications

from .models import FileEvent, FileStatus, PassportFile

# The statuses whose arrival is told, each by its kind of message.
KIND_ON_ARRIVAL = {
    FileStatus.ON_HOLD: "file_on_hold",
    FileStatus.IN_TRANSIT: "file_in_transit",
    FileStatus.READY: "file_ready",
    FileStatus.REJECTED: "file_rejected",
}
RELEASED = "file_released"  # left on_hold for any status not told above


def file_notification_kind(*, start: str, to: str) -> str | None:
    """The kind of message a move of a file from `start` to `to` sends; None: none."""
    if to in KIND_ON_ARRIVAL:
        return KIND_ON_ARRIVAL[to]
    if start == FileStatus.ON_HOLD:
        return RELEASED
    return None


def file_key(*, file_id: int, to: str, event_id: int) -> str:
    return f"file:{file_id}:{to}:{event_id}"


def file_notify(*, file: PassportFile, event: FileEvent) -> int:
    """Write the messages of this event of the file, if its step is told and the file has
    an appointment (in the caller's transaction); returns how many were written."""
    kind = file_notification_kind(start=event.from_status, to=event.to_status)
    if kind is None or file.appointment_id is None:
        return 0
    payload = {"file_reference": file.reference}
    if event.to_status == FileStatus.REJECTED:
        payload["reason"] = file.rejection_reason
    return notifications.enqueue(
        appointment=file.appointment_id,
        kind=kind,
        key=file_key(file_id=file.pk, to=event.to_status, event_id=event.pk),
        payload=payload,
    )
