"""Bounds on pending holds, counted in PostgreSQL so that they hold under concurrency and with
Redis down: one pending hold per identity number, phone number and mailbox (partial unique
indexes), and per network at most HOLDS_PER_NETWORK (the counter appointments_holdnetwork,
taken by the booking statement, given back by a trigger whichever way a hold ends). Used
proof-of-work challenges as rows (replay refused by a primary key). Appointment events by
staff, append-only. Moves counted per appointment."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

HOLD_NETWORK_RELEASE = """
    CREATE FUNCTION appointments_hold_network_release() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        -- A hold ends (confirmed, expired, released, deleted): its network may hold
        -- another. Only OLD is known to be pending here (the trigger's WHEN).
        IF TG_OP = 'DELETE' OR NEW.status <> 'pending' THEN
            UPDATE appointments_holdnetwork SET held = held - 1
            WHERE network = OLD.hold_network AND held > 0;
        END IF;
        RETURN NULL;
    END;
    $$;

    CREATE TRIGGER appointment_hold_network_release
    AFTER UPDATE OF status OR DELETE ON appointments_appointment
    FOR EACH ROW WHEN (OLD.status = 'pending' AND OLD.hold_network <> '')
    EXECUTE FUNCTION appointments_hold_network_release();
"""

EVENTS_APPEND_ONLY = """
    CREATE FUNCTION appointments_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'appointment events are append-only (% refused)', TG_OP
            USING ERRCODE = 'integrity_constraint_violation',
                  CONSTRAINT = 'appointment_event_append_only';
    END;
    $$;

    CREATE TRIGGER appointment_event_append_only
    BEFORE UPDATE OR DELETE ON appointments_appointmentevent
    FOR EACH ROW EXECUTE FUNCTION appointments_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0011_outbox_priority"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="email_key",
            field=models.CharField(blank=True, db_default="", default="", editable=False, max_length=254),
        ),
        migrations.AddField(
            model_name="appointment",
            name="hold_network",
            field=models.CharField(blank=True, db_default="", default="", editable=False, max_length=50),
        ),
        migrations.AddField(
            model_name="appointment",
            name="admission_ticket",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="appointment",
            name="moves",
            field=models.PositiveSmallIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["hold_network", "hold_expires_at"],
                name="appointment_pending_network",
            ),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("code_attempts__gt", 0)),
                fields=["national_id", "updated_at"],
                name="appointment_code_failures",
            ),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("national_id",),
                name="appointment_one_hold_per_identity",
            ),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("phone",),
                name="appointment_one_hold_per_phone",
            ),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending"), models.Q(("email_key", ""), _negated=True)),
                fields=("email_key",),
                name="appointment_one_hold_per_email",
            ),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("admission_ticket__isnull", False),
                    ("status__in", ["pending", "booked", "checked_in", "enrolled", "no_show"]),
                ),
                fields=("admission_ticket",),
                name="appointment_one_per_admission",
            ),
        ),
        migrations.CreateModel(
            name="HoldNetwork",
            fields=[
                ("network", models.CharField(max_length=50, primary_key=True, serialize=False)),
                ("held", models.PositiveIntegerField(default=0)),
            ],
            options={
                "verbose_name": "réseau (places retenues)",
                "verbose_name_plural": "réseaux (places retenues)",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("held__gte", 0)), name="hold_network_held_positive"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="UsedChallenge",
            fields=[
                ("signature", models.CharField(max_length=128, primary_key=True, serialize=False)),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.CreateModel(
            name="AppointmentEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("from_status", models.CharField(max_length=12, verbose_name="de")),
                ("to_status", models.CharField(max_length=12, verbose_name="à")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="le")),
                ("action", models.CharField(max_length=20, verbose_name="action")),
                ("note", models.TextField(blank=True, verbose_name="motif")),
                (
                    "appointment",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="appointments.appointment",
                    ),
                ),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "événement de rendez-vous",
                "verbose_name_plural": "événements de rendez-vous",
                "ordering": ["at", "id"],
                "indexes": [models.Index(fields=["appointment", "at"], name="appointment_event_at")],
            },
        ),
        migrations.RunSQL(
            sql=HOLD_NETWORK_RELEASE,
            reverse_sql="""
                DROP TRIGGER appointment_hold_network_release ON appointments_appointment;
                DROP FUNCTION appointments_hold_network_release();
            """,
        ),
        migrations.RunSQL(
            sql=EVENTS_APPEND_ONLY,
            reverse_sql="""
                DROP TRIGGER appointment_event_append_only ON appointments_appointmentevent;
                DROP FUNCTION appointments_event_append_only();
            """,
        ),
    ]
