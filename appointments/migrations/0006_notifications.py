"""Notifications at every step: the channels an applicant opts in to, and the
idempotency key of each outbox message. Messages written before get a key of their own
(`legacy:<id>`), so that the key can be required and unique from now on."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appointments', '0005_slot_reserved'),
    ]

    operations = [
        migrations.AddField(
            model_name='appointment',
            name='notify_email',
            field=models.BooleanField(default=True, verbose_name='messages par e-mail'),
        ),
        migrations.AddField(
            model_name='appointment',
            name='notify_sms',
            field=models.BooleanField(default=True, verbose_name='messages par SMS'),
        ),
        migrations.AddConstraint(
            model_name='appointment',
            constraint=models.CheckConstraint(condition=models.Q(('notify_email', True), ('notify_sms', True), _connector='OR'), name='appointment_notify_some_channel'),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='kind',
            field=models.CharField(help_text='booking_confirmed, file_ready, …', max_length=40),
        ),
        migrations.AddField(
            model_name='outboxmessage',
            name='idempotency_key',
            field=models.TextField(null=True, help_text='appointment:12:cancelled, file:7:ready:31, …'),
        ),
        migrations.RunSQL(
            "UPDATE appointments_outboxmessage SET idempotency_key = 'legacy:' || id",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='idempotency_key',
            field=models.TextField(help_text='appointment:12:cancelled, file:7:ready:31, …'),
        ),
        migrations.AddConstraint(
            model_name='outboxmessage',
            constraint=models.UniqueConstraint(fields=('idempotency_key', 'channel'), name='outbox_idempotency_key_channel'),
        ),
    ]
