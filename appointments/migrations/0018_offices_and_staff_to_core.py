import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Offices, staff roles and enrolment codes are the core app's now (core 0001), with the tables they had: this app forgets them, in Django's state only."""

    dependencies = [
        ('appointments', '0017_appointment_views'),
        ('consulates', '0004_office_in_core'),
        ('core', '0001_initial'),
        ('production', '0012_office_in_core'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app holds them moves.
            state_operations=[
                migrations.RemoveField(
                    model_name='membership',
                    name='office',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='user',
                ),
                migrations.AlterField(
                    model_name='openinghours',
                    name='office',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='opening_hours', to='core.office', verbose_name='bureau'),
                ),
                migrations.AlterField(
                    model_name='slot',
                    name='office',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='slots', to='core.office'),
                ),
                migrations.AlterField(
                    model_name='closure',
                    name='office',
                    field=models.ForeignKey(blank=True, help_text='Laisser vide pour fermer tous les bureaux.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='closures', to='core.office', verbose_name='bureau'),
                ),
                migrations.AlterField(
                    model_name='appointment',
                    name='office',
                    field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='appointments', to='core.office'),
                ),
                migrations.AlterField(
                    model_name='waitingline',
                    name='office',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='waiting_lines', to='core.office', verbose_name='bureau'),
                ),
                migrations.AlterField(
                    model_name='suspension',
                    name='offices',
                    field=models.ManyToManyField(blank=True, help_text='Laisser vide pour suspendre le service dans tous les bureaux.', related_name='suspensions', to='core.office', verbose_name='bureaux'),
                ),
                migrations.DeleteModel(
                    name='EnrolmentCode',
                ),
                migrations.DeleteModel(
                    name='Membership',
                ),
                migrations.DeleteModel(
                    name='Office',
                ),
            ],
        ),
    ]
