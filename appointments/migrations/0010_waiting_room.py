"""The waiting room at a reopening (appointments/waiting_room/): its lines, their tickets
and the tickets each network took."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("appointments", "0009_outbox_claims")]

    operations = [
        migrations.CreateModel(
            name="WaitingLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "rate",
                    models.FloatField(
                        help_text="0 suspend les admissions ; chaque changement part du nombre "
                        "déjà admis.",
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="admissions par seconde",
                    ),
                ),
                ("base", models.PositiveIntegerField(default=0, editable=False)),
                ("since", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "issued",
                    models.PositiveIntegerField(
                        default=0, editable=False, verbose_name="places attribuées"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "office",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="waiting_lines",
                        to="appointments.office",
                        verbose_name="bureau",
                    ),
                ),
                (
                    "suspension",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="waiting_lines",
                        to="appointments.suspension",
                        verbose_name="suspension",
                    ),
                ),
            ],
            options={
                "verbose_name": "salle d’attente",
                "verbose_name_plural": "salles d’attente",
            },
        ),
        migrations.CreateModel(
            name="WaitingNetwork",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("network", models.CharField(max_length=50)),
                ("tickets", models.PositiveIntegerField(default=0)),
                (
                    "line",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="networks",
                        to="appointments.waitingline",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="WaitingTicket",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("created_at", models.DateTimeField()),
                (
                    "line",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tickets",
                        to="appointments.waitingline",
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="waitingline",
            constraint=models.UniqueConstraint(
                fields=("office", "suspension"), name="waiting_line_office_suspension"
            ),
        ),
        migrations.AddConstraint(
            model_name="waitingline",
            constraint=models.CheckConstraint(
                condition=models.Q(("rate__gte", 0)), name="waiting_line_rate_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="waitingnetwork",
            constraint=models.UniqueConstraint(
                fields=("line", "network"), name="waiting_network_line_key"
            ),
        ),
        migrations.AddIndex(
            model_name="waitingticket",
            index=models.Index(fields=["line", "created_at"], name="waiting_ticket_line_arrival"),
        ),
        migrations.AddConstraint(
            model_name="waitingticket",
            constraint=models.UniqueConstraint(
                fields=("line", "number"), name="waiting_ticket_line_number"
            ),
        ),
    ]
