from django.db import migrations


class Migration(migrations.Migration):
    """A Centre may only stand on an office of kind `centre`, enforced by the database.

    Django has no composite foreign keys, so this one is written in SQL: (office_id,
    office_kind) must match an (id, kind) of appointments_office, and office_kind is checked
    to be 'centre'. Changing the kind of an office that has a Centre is refused as well.
    """

    dependencies = [("production", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql="""
                ALTER TABLE production_centre
                ADD CONSTRAINT centre_office_is_centre
                FOREIGN KEY (office_id, office_kind)
                REFERENCES appointments_office (id, kind)
                ON UPDATE RESTRICT ON DELETE RESTRICT;
            """,
            reverse_sql="ALTER TABLE production_centre DROP CONSTRAINT centre_office_is_centre;",
        ),
    ]
