from django.db import migrations


class Migration(migrations.Migration):
    """File events are append-only: the database refuses to change or delete one, whoever
    asks (the admin, a shell, a bug). (TRUNCATE, an owner's operation that the test runner
    uses to empty tables, is left to the owner.)"""

    dependencies = [("production", "0003_passport_files")]

    operations = [
        migrations.RunSQL(
            sql="""
                CREATE FUNCTION production_file_event_append_only() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'file events are append-only (% refused)', TG_OP
                        USING ERRCODE = 'integrity_constraint_violation',
                              CONSTRAINT = 'file_event_append_only';
                END;
                $$;

                CREATE TRIGGER file_event_append_only
                BEFORE UPDATE OR DELETE ON production_fileevent
                FOR EACH ROW EXECUTE FUNCTION production_file_event_append_only();
            """,
            reverse_sql="""
                DROP TRIGGER file_event_append_only ON production_fileevent;
                DROP FUNCTION production_file_event_append_only();
            """,
        ),
    ]
