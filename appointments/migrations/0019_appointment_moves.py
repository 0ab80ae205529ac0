from django.db import migrations

# The table of appointments/transitions.py, as it is when this migration is written: a later
# change of the table is a new migration (test_transitions.py checks that both agree).
MOVED = """
    CREATE FUNCTION appointments_appointment_moved() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        made_by text := coalesce(
            nullif(current_setting('epassport.event_action', true), ''), 'system'
        );
        at_text text := nullif(current_setting('epassport.event_at', true), '');
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM (VALUES
            ('pending', 'booked', 'confirm'),
            ('pending', 'expired', 'evict'),
            ('pending', 'expired', 'expire'),
            ('booked', 'cancelled', 'cancel'),
            ('booked', 'cancelled', 'evict'),
            ('booked', 'cancelled', 'replace'),
            ('booked', 'displaced', 'displace'),
            ('displaced', 'booked', 'rebook'),
            ('displaced', 'booked', 'reschedule'),
            ('displaced', 'cancelled', 'cancel'),
            ('displaced', 'cancelled', 'evict'),
            ('booked', 'checked_in', 'check-in'),
            ('booked', 'no_show', 'no-show'),
            ('booked', 'enrolled', 'enrol'),
            ('checked_in', 'enrolled', 'enrol')
            ) AS moves (start, target, action)
            WHERE moves.start = OLD.status AND moves.target = NEW.status
              AND moves.action = made_by
        ) THEN
            RAISE EXCEPTION 'appointment % may not move from % to % (%)',
                NEW.id, OLD.status, NEW.status, made_by
                USING ERRCODE = 'check_violation', CONSTRAINT = 'appointment_move_allowed';
        END IF;
        INSERT INTO appointments_appointmentevent
            (appointment_id, from_status, to_status, by_id, at, action, note)
        VALUES (
            NEW.id, OLD.status, NEW.status,
            nullif(current_setting('epassport.event_by', true), '')::integer,
            coalesce(at_text::timestamptz, now()), made_by,
            coalesce(current_setting('epassport.event_note', true), '')
        );
        RETURN NULL;
    END;
    $$;

    CREATE TRIGGER appointment_moved
    AFTER UPDATE OF status ON appointments_appointment
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION appointments_appointment_moved();
"""

NOT_MOVED = """
    DROP TRIGGER appointment_moved ON appointments_appointment;
    DROP FUNCTION appointments_appointment_moved();
"""


class Migration(migrations.Migration):
    """Every change of an appointment's status is one of appointments/transitions.py's moves
    (anything else is refused) and leaves an AppointmentEvent, whichever path made it: the
    services through the ORM, their own SQL statements, or a statement typed by hand. Who
    and why come from the transaction (transitions.recorded)."""

    dependencies = [("appointments", "0018_offices_and_staff_to_core")]

    operations = [migrations.RunSQL(MOVED, NOT_MOVED)]
