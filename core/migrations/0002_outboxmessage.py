import django.utils.timezone
from django.db import migrations, models


MOVED = ("outboxmessage",)


def _relabel(apps, old: str, new: str) -> None:
    # The permissions given on the outbox (to read it, to retry its messages) and the
    # admin's history of it point at its content type: it changes app, so they are kept.
    content_types = apps.get_model("contenttypes", "ContentType")
    content_types.objects.filter(app_label=old, model__in=MOVED).update(app_label=new)


def content_types_to_core(apps, schema_editor) -> None:
    _relabel(apps, "appointments", "core")


def content_types_to_appointments(apps, schema_editor) -> None:
    _relabel(apps, "core", "appointments")


class Migration(migrations.Migration):
    """The outbox, which the appointments app held until its migration 0020: the table keeps its name and its rows; its content type (and so the permissions given on it) moves to this app. Its foreign key to the appointment stays in the database, owned by the appointments app (0020): here the column is a plain id, since core knows no app above it."""

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        # The table exists as the appointments app last changed it.
        ("appointments", "0019_appointment_moves"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays as it is: only Django's idea of which app holds it moves.
            state_operations=[
                migrations.CreateModel(
                    name='OutboxMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(choices=[('email', 'e-mail'), ('sms', 'SMS')], max_length=5)),
                        ('kind', models.CharField(help_text='booking_confirmed, file_ready, …', max_length=40)),
                        # The priority as the appointments app computed it (its migration
                        # 0011); 0003 computes it from the kind's name.
                        ('priority', models.GeneratedField(db_persist=True, expression=models.Case(models.When(kind__in=('booking_code',), then=models.Value(0)), default=models.Value(1)), output_field=models.SmallIntegerField())),
                        ('appointment_id', models.BigIntegerField(blank=True, db_index=True, null=True)),
                        ('recipient', models.CharField(max_length=254)),
                        ('language', models.CharField(default='fr', max_length=2)),
                        ('payload', models.JSONField(blank=True, default=dict)),
                        ('status', models.CharField(choices=[('pending', 'à envoyer'), ('sent', 'envoyé'), ('failed', 'abandonné')], default='pending', max_length=7)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('last_error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('idempotency_key', models.TextField(help_text='appointment:12:cancelled, file:7:ready:31, …')),
                        ('claimed_until', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'verbose_name': 'message sortant',
                        'verbose_name_plural': 'messages sortants',
                        'db_table': 'appointments_outboxmessage',
                        'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['priority', 'next_attempt_at', 'id'], name='outbox_pending_due')],
                        'constraints': [models.UniqueConstraint(fields=('idempotency_key', 'channel'), name='outbox_idempotency_key_channel'), models.CheckConstraint(condition=models.Q(('channel__in', ['email', 'sms'])), name='outbox_channel_valid'), models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'sent', 'failed'])), name='outbox_status_valid'), models.CheckConstraint(condition=models.Q(('claimed_until__isnull', True), ('status', 'pending'), _connector='OR'), name='outbox_claimed_only_pending')],
                    },
                ),
            ],
            database_operations=[
                migrations.RunPython(content_types_to_core, content_types_to_appointments),
            ],
        ),
    ]
