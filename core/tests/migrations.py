"""Helpers of the tests of the moves of models between apps: migrating the test database
back and forth, and a permission an administrator gave on a model's content type before its
move."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets) -> None:
    MigrationExecutor(connection).migrate(targets)


def migrate_to_the_end() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def granted_before_the_move(
    cursor, *, app_label: str, model: str, codename: str, group: str
) -> tuple[int, int]:
    """The content type of `app_label.model` as django.contrib.contenttypes made it then, and
    a permission on it that an administrator gave to a group: (content type id, permission
    id)."""
    cursor.execute(
        "INSERT INTO django_content_type (app_label, model) VALUES (%s, %s)"
        " ON CONFLICT DO NOTHING",
        [app_label, model],
    )
    cursor.execute(
        "SELECT id FROM django_content_type WHERE app_label = %s AND model = %s",
        [app_label, model],
    )
    (content_type_id,) = cursor.fetchone()
    cursor.execute(
        "INSERT INTO auth_permission (name, content_type_id, codename) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        [f"Can {codename}", content_type_id, codename],
    )
    cursor.execute(
        "SELECT id FROM auth_permission WHERE content_type_id = %s AND codename = %s",
        [content_type_id, codename],
    )
    (permission_id,) = cursor.fetchone()
    cursor.execute("INSERT INTO auth_group (name) VALUES (%s) RETURNING id", [group])
    (group_id,) = cursor.fetchone()
    cursor.execute(
        "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (%s, %s)",
        [group_id, permission_id],
    )
    return content_type_id, permission_id
