from django.db import migrations


class Migration(migrations.Migration):
    """A BRIN index on the appointments' creation time, for /metrics' bookings of the last
    hour (production/metrics.py): a few pages whatever the number of appointments, where a
    scan of the table would read them all at every scrape.

    BRIN, not a B-tree: appointments are appended in creation order, so block ranges follow
    the time, and a BRIN index costs a booking nearly nothing (no entry per row), which
    matters in a reopening rush. It lives with the metrics that need it, as SQL: the
    Appointment model (appointments/models.py) knows nothing of it, and the appointments
    app's migrations go on without it. IF NOT EXISTS: a database migrated when the
    project's configuration package held this migration has the index already.
    """

    dependencies = [
        ("appointments", "0005_slot_reserved"),
        ("production", "0010_erased_rejected_file"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "CREATE INDEX IF NOT EXISTS appointment_created_at_brin "
                "ON appointments_appointment USING brin (created_at)"
            ),
            reverse_sql="DROP INDEX IF EXISTS appointment_created_at_brin",
        )
    ]
