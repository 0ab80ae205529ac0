-- A booking in one statement (appointments/services/booking.py prepares it once per database
-- connection): the appointment is inserted only if its slot is among the slots bookable at
-- :now, by the one rule of eligibility.sql. The seat itself is taken by the trigger of
-- migration 0003 in the same statement, and the check constraint slot_within_capacity
-- refuses it when two bookings race for the last seat. No row back: not bookable, and
-- booking.py asks eligibility.verdict() why.
--
-- With contact verification, :status is 'pending' (a hold, services/verification.py).
-- `replaces_id` is the identity's booked appointment, if any: the code of a hold goes to its
-- contacts. When no seat is left, booking.py first expires the slot's lapsed holds (an
-- UPDATE here, in every booking, cost 0.35 ms of PostgreSQL's CPU for its executor alone,
-- bench/booking_rush.py) and, if one was, runs the statement again.
--
-- A pending hold also takes one of its network's HOLDS_PER_NETWORK (:network_cap) places: the
-- conditional upsert of `net` locks the network's counter row and reads its latest value
-- (ON CONFLICT DO UPDATE), so two holds of one network at once are counted one after the
-- other; it runs only when the slot is bookable, and the appointment is inserted only when it
-- took a place (in one statement: both or neither). The trigger of migration 0012 gives the
-- place back when the hold ends. :network is '' for a booking made without verification.
--
-- :name placeholders become $1, $2, ... in the order of booking._PARAMS. The column list
-- must name every column of appointments_appointment but its id (test_eligibility.py).
WITH slot AS (
    SELECT s.id, s.office_id FROM epassport_bookable_slots(:now) s WHERE s.id = :slot
), net AS (
    INSERT INTO appointments_holdnetwork AS n (network, held)
    SELECT :network, 1 FROM slot WHERE :network <> ''
    ON CONFLICT (network) DO UPDATE SET held = n.held + 1 WHERE n.held < :network_cap
    RETURNING 1
), booked AS (
    INSERT INTO appointments_appointment
        (reference, office_id, slot_id, status, surname, given_names, birth_date,
         national_id, email, phone, language, manage_token_hash, notify_email, notify_sms,
         hold_expires_at, code_hash, code_attempts, replaces_id, email_key, hold_network,
         admission_ticket, moves, created_at, updated_at, erased_at)
    SELECT :reference, s.office_id, s.id, :status, :surname, :given_names, :birth_date,
           :national_id, :email, :phone, :language, :token_hash, true, true,
           :hold_expires_at, :code_hash, 0,
           CASE WHEN :status = 'pending' THEN (
               SELECT a.id FROM appointments_appointment a
               WHERE a.national_id = :national_id AND a.status IN ('booked', 'checked_in')
               LIMIT 1
           ) END,
           :email_key, :network, :admission_ticket, 0, :created_at, :created_at, NULL
    FROM slot s
    WHERE :network = '' OR EXISTS (SELECT 1 FROM net)
    RETURNING id, replaces_id, slot_id
)
SELECT booked.id, booked.replaces_id, s.id, s.office_id, s.starts_at, s.ends_at, s.capacity,
       s.booked, s.reserved, s.is_open
FROM booked JOIN appointments_slot s ON s.id = booked.slot_id
