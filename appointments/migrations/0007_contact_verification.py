"""Contact verification: a new booking may hold its seat as `pending` until the
applicant enters the code sent to them, and lapses to `expired` otherwise. A pending hold
takes a seat: the seat trigger of migration 0003 now counts `pending` among the statuses
that hold one, so slot_within_capacity still refuses any overbooking."""

import django.db.models.deletion
from django.db import migrations, models


def _seat_count_function(seat_holding: str) -> str:
    # The function of migration 0003, with the list of seat-holding statuses given.
    return f"""
        CREATE OR REPLACE FUNCTION appointments_slot_seat_count() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            old_holds boolean := TG_OP <> 'INSERT' AND OLD.status IN {seat_holding};
            new_holds boolean := TG_OP <> 'DELETE' AND NEW.status IN {seat_holding};
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.slot_id = NEW.slot_id AND old_holds = new_holds THEN
                RETURN NULL;
            END IF;
            IF old_holds THEN
                UPDATE appointments_slot SET booked = booked - 1 WHERE id = OLD.slot_id;
            END IF;
            IF new_holds THEN
                UPDATE appointments_slot SET booked = booked + 1 WHERE id = NEW.slot_id;
            END IF;
            RETURN NULL;
        END;
        $$;
    """


SEAT_HOLDING = "('pending', 'booked', 'checked_in', 'enrolled', 'no_show')"
SEAT_HOLDING_BEFORE = "('booked', 'checked_in', 'enrolled', 'no_show')"


class Migration(migrations.Migration):

    dependencies = [
        ('appointments', '0006_notifications'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='appointment',
            name='appointment_status_valid',
        ),
        migrations.AddField(
            model_name='appointment',
            name='code_attempts',
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='appointment',
            name='code_hash',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='appointment',
            name='hold_expires_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='place retenue jusqu’à'),
        ),
        migrations.AddField(
            model_name='appointment',
            name='replaces',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='appointments.appointment'),
        ),
        migrations.AlterField(
            model_name='appointment',
            name='status',
            field=models.CharField(choices=[('pending', 'en attente du code'), ('booked', 'réservé'), ('checked_in', 'présent'), ('enrolled', 'enrôlé'), ('no_show', 'absent'), ('cancelled', 'annulé'), ('displaced', 'à reprogrammer'), ('expired', 'expiré (code non saisi)')], default='booked', max_length=12, verbose_name='statut'),
        ),
        migrations.AddIndex(
            model_name='appointment',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['slot', 'hold_expires_at'], name='appointment_pending_hold'),
        ),
        migrations.AddIndex(
            model_name='appointment',
            index=models.Index(condition=models.Q(('replaces__isnull', False)), fields=['replaces'], name='appointment_replaces'),
        ),
        migrations.AddConstraint(
            model_name='appointment',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'booked', 'checked_in', 'enrolled', 'no_show', 'cancelled', 'displaced', 'expired'])), name='appointment_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='appointment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'pending'), _negated=True), ('hold_expires_at__isnull', False), _connector='OR'), name='appointment_pending_has_expiry'),
        ),
        migrations.AddConstraint(
            model_name='appointment',
            constraint=models.CheckConstraint(condition=models.Q(('code_attempts__lte', 3)), name='appointment_code_attempts_max'),
        ),
        migrations.RunSQL(
            sql=_seat_count_function(SEAT_HOLDING),
            reverse_sql=_seat_count_function(SEAT_HOLDING_BEFORE),
        ),
    ]
