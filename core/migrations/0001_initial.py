import django.db.models.deletion
import django_countries.fields
import timezone_field.fields
from django.conf import settings
from django.db import migrations, models


MOVED = ("office", "membership", "enrolmentcode")


def _relabel(apps, old: str, new: str) -> None:
    # The permissions given on these models (and the admin's history of them) point at their
    # content type: it changes app, so they are kept.
    content_types = apps.get_model("contenttypes", "ContentType")
    content_types.objects.filter(app_label=old, model__in=MOVED).update(app_label=new)


def content_types_to_core(apps, schema_editor) -> None:
    _relabel(apps, "appointments", "core")


def content_types_to_appointments(apps, schema_editor) -> None:
    _relabel(apps, "core", "appointments")


class Migration(migrations.Migration):
    """Offices, staff roles and enrolment codes, which the appointments app held until its migration 0018: the tables keep their names and their rows; their content types (and so the permissions given on them) move to this app."""

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        # The tables exist: created by the appointments app's migrations.
        ("appointments", "0017_appointment_views"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app holds them moves.
            state_operations=[
                migrations.CreateModel(
                    name='Office',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.SlugField(help_text='Identifiant court, par exemple bko-centre ou paris-consulat.', max_length=40, unique=True, verbose_name='code')),
                        ('name', models.CharField(max_length=200, verbose_name='nom')),
                        ('name_en', models.CharField(blank=True, max_length=200, verbose_name='nom en anglais')),
                        ('kind', models.CharField(choices=[('centre', 'Centre de production (Mali)'), ('mission', 'Ambassade ou consulat')], max_length=10, verbose_name='type')),
                        ('city', models.CharField(max_length=100, verbose_name='ville')),
                        ('country', django_countries.fields.CountryField(max_length=2, verbose_name='pays')),
                        ('timezone', timezone_field.fields.TimeZoneField(use_pytz=False, verbose_name='fuseau horaire')),
                        ('address', models.TextField(blank=True, verbose_name='adresse')),
                        ('active', models.BooleanField(default=True, verbose_name='active')),
                        ('deactivated_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='inactif depuis')),
                    ],
                    options={
                        'verbose_name': 'bureau',
                        'verbose_name_plural': 'bureaux',
                        'db_table': 'appointments_office',
                        'ordering': ['kind', 'city', 'name'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['centre', 'mission'])), name='office_kind_valid'), models.CheckConstraint(condition=models.Q(('code__regex', '^[a-z0-9]+(-[a-z0-9]+)*$')), name='office_code_slug'), models.UniqueConstraint(fields=('id', 'kind'), name='office_id_kind_key')],
                    },
                ),
                migrations.CreateModel(
                    name='EnrolmentCode',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('digest', models.CharField(max_length=64, unique=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('expires_at', models.DateTimeField(verbose_name='valable jusqu’à')),
                        ('used_at', models.DateTimeField(blank=True, null=True, verbose_name='utilisé le')),
                        ('issued_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='émis par')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='enrolment_codes', to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                    ],
                    options={
                        'verbose_name': 'code d’enregistrement',
                        'verbose_name_plural': 'codes d’enregistrement',
                        'db_table': 'appointments_enrolmentcode',
                        'constraints': [models.CheckConstraint(condition=models.Q(('expires_at__gt', models.F('created_at'))), name='enrolment_code_expires_after_creation')],
                    },
                ),
                migrations.CreateModel(
                    name='Membership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('agent', 'agent d’accueil'), ('supervisor', 'superviseur'), ('operator', 'opérateur de production'), ('admin', 'administrateur du ministère')], max_length=10, verbose_name='rôle')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                        ('office', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='core.office', verbose_name='bureau')),
                    ],
                    options={
                        'verbose_name': 'affectation',
                        'verbose_name_plural': 'affectations',
                        'db_table': 'appointments_membership',
                        'constraints': [models.UniqueConstraint(fields=('user', 'office', 'role'), name='membership_unique', nulls_distinct=False), models.CheckConstraint(condition=models.Q(('role__in', ['agent', 'supervisor', 'operator', 'admin'])), name='membership_role_valid'), models.CheckConstraint(condition=models.Q(models.Q(('office__isnull', True), ('role', 'admin')), models.Q(models.Q(('role', 'admin'), _negated=True), ('office__isnull', False)), _connector='OR'), name='membership_office_matches_role')],
                    },
                ),
            ],
            database_operations=[
                migrations.RunPython(content_types_to_core, content_types_to_appointments),
            ],
        ),
    ]
