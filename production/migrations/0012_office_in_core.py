import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Offices are the core app's now (core 0001): the foreign keys to them follow, in Django's state only."""

    dependencies = [
        ('core', '0001_initial'),
        ('production', '0011_appointment_created_at_brin'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app holds them moves.
            state_operations=[
                migrations.AlterField(
                    model_name='backlogsnapshot',
                    name='office',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.office', verbose_name='bureau'),
                ),
                migrations.AlterField(
                    model_name='centre',
                    name='office',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='centre', to='core.office', verbose_name='bureau'),
                ),
                migrations.AlterField(
                    model_name='passportfile',
                    name='office',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='files', to='core.office', verbose_name='bureau d’enrôlement'),
                ),
            ],
        ),
    ]
