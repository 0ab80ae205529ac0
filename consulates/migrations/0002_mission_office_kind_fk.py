from django.db import migrations


class Migration(migrations.Migration):
    """A Mission may only stand on an office of kind `mission`, enforced by the database.

    See production 0002: a composite foreign key (office_id, office_kind) to
    appointments_office (id, kind), with office_kind checked to be 'mission'.
    """

    dependencies = [("consulates", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql="""
                ALTER TABLE consulates_mission
                ADD CONSTRAINT mission_office_is_mission
                FOREIGN KEY (office_id, office_kind)
                REFERENCES appointments_office (id, kind)
                ON UPDATE RESTRICT ON DELETE RESTRICT;
            """,
            reverse_sql="ALTER TABLE consulates_mission DROP CONSTRAINT mission_office_is_mission;",
        ),
    ]
