"""Offices, staff roles and enrolment codes moved from the appointments app to core with
their tables: a database migrated before the move keeps every row, and the permissions an
administrator gave on them."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from core.models import EnrolmentCode, Membership, Office
from core.tests.migrations import granted_before_the_move, migrate, migrate_to_the_end

BEFORE = [
    ("appointments", "0017_appointment_views"),
    ("production", "0011_appointment_created_at_brin"),
    ("consulates", "0003_shipments"),
]


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_its_rows_and_permissions():
    # Rows as the appointments app wrote them, then the schema and content types as they were.
    user = User.objects.create_user("agent.bko", password="unused-password-1")
    migrate([("core", None), *BEFORE])
    try:
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO appointments_office (code, name, name_en, kind, city, country,"
                " timezone, address, active) VALUES ('bko-centre', 'Centre de Bamako', '',"
                " 'centre', 'Bamako', 'ML', 'Africa/Bamako', '', true) RETURNING id"
            )
            (office_id,) = cursor.fetchone()
            cursor.execute(
                "INSERT INTO appointments_membership (user_id, office_id, role, created_at)"
                " VALUES (%s, %s, 'agent', %s)",
                [user.pk, office_id, now],
            )
            cursor.execute(
                "INSERT INTO appointments_enrolmentcode (user_id, digest, created_at,"
                " expires_at) VALUES (%s, 'digest-1', %s, %s)",
                [user.pk, now, now + timedelta(hours=24)],
            )
            content_type_id, permission_id = granted_before_the_move(
                cursor,
                app_label="appointments",
                model="office",
                codename="change_office",
                group="bureaux",
            )
    finally:
        migrate_to_the_end()
    ContentType.objects.clear_cache()

    office = Office.objects.get(code="bko-centre")
    assert office.pk == office_id
    assert Membership.objects.get(user=user).office == office
    assert EnrolmentCode.objects.get(user=user).digest == "digest-1"
    assert office.slots.count() == 0  # the appointments app's relations follow
    permission = Permission.objects.get(pk=permission_id)
    assert (permission.content_type.app_label, permission.codename) == ("core", "change_office")
    assert ContentType.objects.get_for_model(Office).pk == content_type_id
    assert Group.objects.get(name="bureaux").permissions.get() == permission
