"""The outbox's priority from the kind's name: a kind whose name ends with `_code` is sent
first (core.models.FIRST_KIND_SUFFIX), where the appointments app listed its kinds by name.
Core knows none of the apps' kinds: each registers its own (core/outbox/kinds.py), and one
sent first says so by its name, without a migration. The messages keep their priorities
(`booking_code` is the only kind sent first, before as after).

PostgreSQL 15 cannot change a generated column's expression: the column is dropped and added
again, which rewrites the table under an exclusive lock (a few seconds for a million
messages, during which bookings wait to write theirs). Migrate outside a reopening."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0002_outboxmessage")]

    operations = [
        migrations.RemoveIndex(model_name="outboxmessage", name="outbox_pending_due"),
        migrations.RemoveField(model_name="outboxmessage", name="priority"),
        migrations.AddField(
            model_name="outboxmessage",
            name="priority",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(kind__endswith="_code", then=models.Value(0)),
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
