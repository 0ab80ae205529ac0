"""The waiting room lets nobody in for whom no seat is left: a line keeps the seats it admits
for (counted as at the reopening), and the bookings made with its admissions are found by
their ticket (read with the office's free seats while the line runs)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("appointments", "0013_waiting_room_fixes")]

    operations = [
        migrations.AddField(
            model_name="waitingline",
            name="seats",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("admission_ticket__isnull", False)),
                fields=["admission_ticket"],
                name="appointment_admission_ticket",
            ),
        ),
    ]
