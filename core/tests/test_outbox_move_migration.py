"""The outbox moved from the appointments app to core with its table: a database migrated
before the move keeps every message, their priorities (now computed from the kind's name),
the permissions an administrator gave on them, and an appointment's messages still go with
it (the foreign key's cascade, in the database now)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from appointments.models import Appointment
from appointments.tests.factories import book
from core.models import OutboxMessage
from core.tests.migrations import granted_before_the_move, migrate, migrate_to_the_end

BEFORE = [("core", "0001_initial"), ("appointments", "0019_appointment_moves")]


def _insert_message(cursor, appointment_id: int, kind: str, channel: str) -> int:
    cursor.execute(
        "INSERT INTO appointments_outboxmessage (channel, kind, appointment_id, recipient,"
        " language, payload, status, attempts, next_attempt_at, last_error, created_at,"
        " idempotency_key) VALUES (%s, %s, %s, 'awa@example.org', 'fr', '{}', 'pending', 0,"
        " %s, '', %s, %s) RETURNING id",
        [channel, kind, appointment_id, timezone.now(), timezone.now(), f"old:{kind}"],
    )
    return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_its_messages_and_permissions():
    appointment, _token = book()
    migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            # Messages as the appointments app wrote them: its priority, from its list.
            cursor.execute("DELETE FROM appointments_outboxmessage")
            code = _insert_message(cursor, appointment.pk, "booking_code", "sms")
            ready = _insert_message(cursor, appointment.pk, "file_ready", "email")
            cursor.execute("SELECT id, priority FROM appointments_outboxmessage ORDER BY id")
            assert cursor.fetchall() == [(code, 0), (ready, 1)]
            cursor.execute(
                "DELETE FROM django_content_type WHERE app_label = 'core'"
                " AND model = 'outboxmessage'"
            )
            content_type_id, permission_id = granted_before_the_move(
                cursor,
                app_label="appointments",
                model="outboxmessage",
                codename="change_outboxmessage",
                group="messages",
            )
    finally:
        migrate_to_the_end()
    ContentType.objects.clear_cache()

    messages = OutboxMessage.objects.order_by("pk")
    assert list(messages.values_list("pk", "kind", "priority", "appointment_id")) == [
        (code, "booking_code", 0, appointment.pk),
        (ready, "file_ready", 1, appointment.pk),
    ]
    permission = Permission.objects.get(pk=permission_id)
    assert (permission.content_type.app_label, permission.codename) == (
        "core",
        "change_outboxmessage",
    )
    assert ContentType.objects.get_for_model(OutboxMessage).pk == content_type_id
    assert Group.objects.get(name="messages").permissions.get() == permission

    # Deleting the appointment (its events first: they protect it) deletes its messages.
    appointment.events.all()._raw_delete(connection.alias)
    Appointment.objects.filter(pk=appointment.pk).delete()
    assert not OutboxMessage.objects.exists()
