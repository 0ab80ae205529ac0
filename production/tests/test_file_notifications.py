"""A file's applicant is told, once by email and once by SMS, when the file is put on hold
and released, sent to a mission, ready, or rejected (with the reason); of no other step."""

import pytest

from appointments import documents
from appointments import services as appointment_services
from appointments.tests.factories import member
from core.models import OutboxMessage
from core.outbox import kinds as outbox_messages
from production import services, transitions
from production.models import FileEvent
from production.models import FileStatus as S
from production.tests.factories import PassportFileFactory, applicant_file

pytestmark = pytest.mark.django_db

# The moves of the table that the applicant is told of, and by which message.
TOLD = {
    (S.ENROLLED, S.ON_HOLD): "file_on_hold",
    (S.QUEUED, S.ON_HOLD): "file_on_hold",
    (S.ON_HOLD, S.ENROLLED): "file_released",
    (S.ON_HOLD, S.QUEUED): "file_released",
    (S.QUALITY_CHECK, S.IN_TRANSIT): "file_in_transit",
    (S.QUALITY_CHECK, S.READY): "file_ready",
    (S.IN_TRANSIT, S.READY): "file_ready",
    (S.ON_HOLD, S.REJECTED): "file_rejected",
    (S.ENROLLED, S.REJECTED): "file_rejected",
    (S.QUEUED, S.REJECTED): "file_rejected",
    (S.IN_PRODUCTION, S.REJECTED): "file_rejected",
    (S.QUALITY_CHECK, S.REJECTED): "file_rejected",
}


def file_messages(file) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(
            appointment_id=file.appointment_id, kind__startswith="file_"
        ).order_by("channel")
    )


def move(file, to: str, note: str = ""):
    note = note or ("Photo non conforme" if to == S.REJECTED else "")
    return services.file_transition(
        file=file,
        to=to,
        expected=file.status,
        by=member("admin"),
        note=note,
        via_pouch=transitions.pouch_only(start=file.status, to=to),
    )


@pytest.mark.parametrize(("start", "to"), list(transitions.TRANSITIONS))
def test_each_move_of_the_table_tells_the_applicant_once_or_not_at_all(bamako, paris, start, to):
    # The route where the move exists: in transit only for a mission's files.
    at_mission = to == S.IN_TRANSIT or start == S.IN_TRANSIT
    office = paris.office if at_mission else bamako.office
    file = applicant_file(office, centre=bamako, status=start)

    move(file, to)

    messages = file_messages(file)
    kind = TOLD.get((start, to))
    if kind is None:
        assert messages == []
        return
    event = FileEvent.objects.get(file=file)
    key = f"file:{file.pk}:{to}:{event.pk}"
    appointment = file.appointment
    assert [(m.kind, m.channel, m.recipient, m.idempotency_key) for m in messages] == [
        (kind, "email", appointment.email, key),
        (kind, "sms", appointment.phone, key),
    ]
    payload = {"file_reference": file.reference}
    if to == S.REJECTED:
        payload["reason"] = "Photo non conforme"
    assert [m.payload for m in messages] == [payload, payload]


def test_a_file_without_appointment_tells_nobody(bamako):
    file = PassportFileFactory(centre=bamako, status=S.QUALITY_CHECK)
    move(file, S.READY)
    assert not OutboxMessage.objects.filter(kind__startswith="file_").exists()


def test_a_channel_the_applicant_turned_off_is_not_used(bamako):
    file = applicant_file(centre=bamako, status=S.QUALITY_CHECK)
    appointment_services.booking_notifications_set(appointment=file.appointment, email=False)

    move(file, S.READY)

    assert [(m.kind, m.channel) for m in file_messages(file)] == [("file_ready", "sms")]


def test_a_file_held_twice_is_told_each_time(bamako):
    file = applicant_file(centre=bamako, status=S.ENROLLED)
    for to in (S.ON_HOLD, S.ENROLLED, S.ON_HOLD):
        file = move(file, to)

    kinds = [(m.kind, m.channel) for m in file_messages(file)]
    assert sorted(kinds) == sorted(
        [("file_on_hold", "email"), ("file_on_hold", "sms")] * 2
        + [("file_released", "email"), ("file_released", "sms")]
    )
    holds = {m.idempotency_key for m in file_messages(file) if m.kind == "file_on_hold"}
    assert len(holds) == 2  # one key per hold: its event


def test_files_moved_in_bulk_are_each_told_once(paris, bamako):
    files = [applicant_file(paris.office, centre=bamako, status=S.QUEUED) for _ in range(3)]
    supervisor = member("supervisor", paris.office)

    results = services.files_bulk_transition(
        by=supervisor,
        references=[f.reference for f in files] * 2,
        to=S.REJECTED,
        note="Photo non conforme",
    )

    assert [r["ok"] for r in results] == [True] * 3
    for file in files:
        assert [(m.kind, m.channel) for m in file_messages(file)] == [
            ("file_rejected", "email"),
            ("file_rejected", "sms"),
        ]


def test_the_messages_say_what_happened_in_the_applicant_s_language(paris, bamako):
    file = applicant_file(paris.office, centre=bamako, status=S.QUALITY_CHECK, language="en")
    rejected = applicant_file(centre=bamako, status=S.QUEUED)
    move(file, S.IN_TRANSIT)
    move(rejected, S.REJECTED, note="Photo floue : merci de revenir avec une photo récente.")

    email, sms = file_messages(file)
    sent = outbox_messages.render_email(email)
    assert sent.extra_headers["Content-Language"] == "en"
    assert file.reference in sent.subject
    assert "on its way by diplomatic pouch" in sent.body
    assert documents.tracking_url("en") == "http://127.0.0.1:8000/en/suivi/"
    assert "/en/suivi/" in sent.body
    assert "64 rue de Prony" in sent.body
    assert file.reference in outbox_messages.sms_text(sms)

    email, sms = file_messages(rejected)
    sent = outbox_messages.render_email(email)
    assert sent.subject == f"Passeport Premium : dossier {rejected.reference} rejeté"
    assert "rejeté pour le motif suivant :\nPhoto floue : merci de revenir" in sent.body
    assert "Photo floue" in sent.alternatives[0][0]
    assert sent.attachments == []
    text = outbox_messages.sms_text(sms)
    assert text.startswith(f"Passeport Premium : votre dossier {rejected.reference} est rejeté.")
    assert "Motif : Photo floue" in text
