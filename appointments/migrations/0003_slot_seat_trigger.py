from django.db import migrations

SEAT_HOLDING = "('booked', 'checked_in', 'enrolled', 'no_show')"


class Migration(migrations.Migration):
    """The database keeps Slot.booked equal to the number of seat-holding appointments.

    Every insert, delete, or change of status or slot of an appointment adjusts the counter
    of the slot(s) concerned in the same statement; the check constraint
    slot_within_capacity (booked <= capacity) then refuses any write that would overbook,
    whatever code path made it. Updating the slot row also serialises concurrent bookings of
    one slot on its row lock. An appointment must also belong to the office of its slot
    (composite foreign key on (slot_id, office_id)).
    """

    dependencies = [("appointments", "0002_booking")]

    operations = [
        migrations.RunSQL(
            sql=f"""
                CREATE FUNCTION appointments_slot_seat_count() RETURNS trigger
                LANGUAGE plpgsql AS $$
                DECLARE
                    old_holds boolean := TG_OP <> 'INSERT' AND OLD.status IN {SEAT_HOLDING};
                    new_holds boolean := TG_OP <> 'DELETE' AND NEW.status IN {SEAT_HOLDING};
                BEGIN
                    IF TG_OP = 'UPDATE' AND OLD.slot_id = NEW.slot_id
                       AND old_holds = new_holds THEN
                        RETURN NULL;
                    END IF;
                    IF old_holds THEN
                        UPDATE appointments_slot SET booked = booked - 1 WHERE id = OLD.slot_id;
                    END IF;
                    IF new_holds THEN
                        UPDATE appointments_slot SET booked = booked + 1 WHERE id = NEW.slot_id;
                    END IF;
                    RETURN NULL;
                END;
                $$;

                CREATE TRIGGER appointment_slot_seat_count
                AFTER INSERT OR DELETE OR UPDATE OF status, slot_id
                ON appointments_appointment
                FOR EACH ROW EXECUTE FUNCTION appointments_slot_seat_count();

                ALTER TABLE appointments_appointment
                ADD CONSTRAINT appointment_slot_of_office
                FOREIGN KEY (slot_id, office_id) REFERENCES appointments_slot (id, office_id)
                ON UPDATE RESTRICT ON DELETE RESTRICT;
            """,  # nosec B608 # SEAT_HOLDING is a constant of this file, not an input
            reverse_sql="""
                ALTER TABLE appointments_appointment DROP CONSTRAINT appointment_slot_of_office;
                DROP TRIGGER appointment_slot_seat_count ON appointments_appointment;
                DROP FUNCTION appointments_slot_seat_count();
            """,
        ),
    ]
