-- A booking in one statement (appointments/services/booking.py prepares it once per database
-- connection): the appointment is inserted only if its slot is among the slots bookable at
-- :now, by the one rule of eligibility.sql. The seat itself is taken by the trigger of
-- migration 0003 in the same statement, and the check constraint slot_within_capacity
-- refuses it when two bookings race for the last seat. No row back: not bookable, and
-- booking.py asks eligibility.verdict() why.
--
-- :name placeholders become $1, $2, ... in the order of booking._PARAMS. The column list
-- must name every column of appointments_appointment but its id (test_eligibility.py).
WITH booked AS (
    INSERT INTO appointments_appointment
        (reference, office_id, slot_id, status, surname, given_names, birth_date,
         national_id, email, phone, language, manage_token_hash, notify_email, notify_sms,
         created_at, updated_at, erased_at)
    SELECT :reference, s.office_id, s.id, 'booked', :surname, :given_names, :birth_date,
           :national_id, :email, :phone, :language, :token_hash, true, true, :created_at,
           :created_at, NULL
    FROM epassport_bookable_slots(:now) s
    WHERE s.id = :slot
    RETURNING id, slot_id
)
SELECT booked.id, s.id, s.office_id, s.starts_at, s.ends_at, s.capacity, s.booked, s.reserved,
       s.is_open
FROM booked JOIN appointments_slot s ON s.id = booked.slot_id
