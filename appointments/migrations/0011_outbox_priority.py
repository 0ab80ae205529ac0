"""Codes first: the outbox's priority, computed from the kind by PostgreSQL (a stored generated
column: every insert, hand-written SQL included, sets it), and the index of pending messages
in the senders' order (priority, due time, id).

Adding a stored generated column rewrites the table under an exclusive lock: a few seconds
for a million messages, during which bookings wait to write theirs. Migrate outside a
reopening."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("appointments", "0010_waiting_room")]

    operations = [
        migrations.RemoveIndex(model_name="outboxmessage", name="outbox_pending_due"),
        migrations.AddField(
            model_name="outboxmessage",
            name="priority",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(kind__in=("booking_code",), then=models.Value(0)),
                    default=models.Value(1),
                ),
                output_field=models.SmallIntegerField(),
            ),
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["priority", "next_attempt_at", "id"],
                name="outbox_pending_due",
            ),
        ),
    ]
