from django.db import migrations

# The outbox's foreign key to the appointment, which this app keeps in the database now that
# core holds the table (core knows no app above it: its model has a plain appointment_id).
# The ORM's cascade went with the model, so PostgreSQL deletes an appointment's messages
# with it. Named by us (Django named the old one with a hash): found here by what it links.
CASCADE = """
    DO $$
    DECLARE old_name text;
    BEGIN
        FOR old_name IN
            SELECT conname FROM pg_constraint
            WHERE conrelid = 'appointments_outboxmessage'::regclass AND contype = 'f'
              AND confrelid = 'appointments_appointment'::regclass
        LOOP
            EXECUTE format('ALTER TABLE appointments_outboxmessage DROP CONSTRAINT %I', old_name);
        END LOOP;
    END $$;
    ALTER TABLE appointments_outboxmessage ADD CONSTRAINT outbox_appointment_fk
        FOREIGN KEY (appointment_id) REFERENCES appointments_appointment (id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
"""
# Back to a key without a cascade in the database, as Django made it (the ORM cascaded).
NO_CASCADE = """
    ALTER TABLE appointments_outboxmessage DROP CONSTRAINT outbox_appointment_fk;
    ALTER TABLE appointments_outboxmessage ADD CONSTRAINT outbox_appointment_fk
        FOREIGN KEY (appointment_id) REFERENCES appointments_appointment (id)
        DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    """The outbox is core's now (core 0002), with the table it had: this app forgets the model, in Django's state only, and keeps its foreign key to the appointment in the database, deleting an appointment's messages with it."""

    dependencies = [
        ('appointments', '0019_appointment_moves'),
        ('core', '0002_outboxmessage'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='OutboxMessage',
                ),
            ],
            database_operations=[
                migrations.RunSQL(CASCADE, NO_CASCADE),
            ],
        ),
    ]
