import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Offices are the core app's now (core 0001): the foreign key to them follows, in Django's state only."""

    dependencies = [
        ('consulates', '0003_shipments'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app holds them moves.
            state_operations=[
                migrations.AlterField(
                    model_name='mission',
                    name='office',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='mission', to='core.office', verbose_name='bureau'),
                ),
            ],
        ),
    ]
