from django.db import migrations, models


def copy_birth_dates(apps, schema_editor):
    schema_editor.execute(
        """
        UPDATE production_passportfile f SET birth_date = a.birth_date
        FROM appointments_appointment a
        WHERE a.id = f.appointment_id AND f.birth_date IS NULL
        """
    )


class Migration(migrations.Migration):
    dependencies = [("production", "0006_backlog_snapshots")]

    operations = [
        migrations.AddField(
            model_name="passportfile",
            name="birth_date",
            field=models.DateField(blank=True, null=True, verbose_name="date de naissance"),
        ),
        migrations.RunPython(copy_birth_dates, migrations.RunPython.noop),
    ]
