-- A booking in one statement (appointments/services/booking.py prepares it once per database
-- connection and runs it on its own, without a transaction around it: one round trip): the
-- appointment is inserted only if its slot is among the slots bookable at :now, by the one
-- rule (epassport_bookable_slots, migration 0021_sql_functions). The seat itself is taken by
-- the trigger of migration 0003 in the same statement, and the check constraint
-- slot_within_capacity refuses it when two bookings race for the last seat. No appointment back (its id NULL): not bookable, and booking.py
-- asks eligibility.verdict() why.
--
-- With contact verification, :status is `pending` (a hold, services/verification.py).
-- `replaced` is the identity's booked appointment, if any: the code of a hold goes to its
-- contacts. When no seat is left, booking.py first expires the slot's lapsed holds (an
-- UPDATE here, in every booking, cost 0.35 ms of PostgreSQL's CPU for its executor alone,
-- bench/booking_rush.py) and, if one was, runs the statement again.
--
-- Guessing: a hold that would replace a booking is not made once its identity number, or the
-- booking, had :failure_cap wrong codes over the last day (each hold allows a few tries at
-- the code sent to the booking's holder; the partial index appointment_code_failures holds
-- only the holds that had one). The last column then names the booking, whose holder
-- booking.py tells.
--
-- A pending hold also takes one of its network's HOLDS_PER_NETWORK (:network_cap) places: the
-- conditional upsert of `net` locks the network's counter row and reads its latest value
-- (ON CONFLICT DO UPDATE), so two holds of one network at once are counted one after the
-- other; it runs only when the slot is bookable, and the appointment is inserted only when it
-- took a place (in one statement: both or neither). The trigger of migration 0012 gives the
-- place back when the hold ends. :network is '' for a booking made without verification.
--
-- What the booking made, in the same statement (so all or nothing, with no transaction to
-- open and commit): the proof-of-work solution used up (:challenge, '' when off; a second use
-- breaks the unique key of appointments_usedchallenge, and the whole booking with it), and
-- its messages in the outbox (:kind, :payload, the idempotency key of
-- notifications.appointment_key) by the outbox's one insert, epassport_outbox_enqueue
-- (migration 0021_sql_functions), to the contacts of the booking it would replace or to the
-- new appointment's own: the function is VOLATILE, so it sees the row this statement has
-- just inserted, which the statement's own snapshot does not.
--
-- core.sql makes the :name placeholders $1, $2, ... for the PREPARE of booking.py. The
-- column list must name every column of appointments_appointment but its id
-- (test_eligibility.py).
WITH slot AS (
    SELECT s.id, s.office_id FROM epassport_bookable_slots(:now) s WHERE s.id = :slot
), replaced AS (
    SELECT a.id FROM appointments_appointment a
    WHERE :status = {AppointmentStatus.PENDING} AND a.national_id = :national_id
      AND a.status IN ({AppointmentStatus.BOOKED}, {AppointmentStatus.CHECKED_IN})
    LIMIT 1
), guessed AS (
    SELECT r.id FROM replaced r
    WHERE (SELECT coalesce(sum(f.code_attempts), 0) FROM appointments_appointment f
           WHERE f.code_attempts > 0 AND f.updated_at > :now - interval '1 day'
             AND (f.national_id = :national_id OR f.replaces_id = r.id)) >= :failure_cap
), allowed AS (
    SELECT s.id, s.office_id FROM slot s WHERE NOT EXISTS (SELECT 1 FROM guessed)
), net AS (
    INSERT INTO appointments_holdnetwork AS n (network, held)
    SELECT :network, 1 FROM allowed WHERE :network <> ''
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
           :hold_expires_at, :code_hash, 0, (SELECT id FROM replaced),
           :email_key, :network, :admission_ticket, 0, :created_at, :created_at, NULL
    FROM allowed s
    WHERE :network = '' OR EXISTS (SELECT 1 FROM net)
    RETURNING id, replaces_id, slot_id
), used AS (
    INSERT INTO appointments_usedchallenge (signature, expires_at)
    SELECT :challenge, to_timestamp(:challenge_expires) FROM booked WHERE :challenge <> ''
), sent AS (
    SELECT m.id
    FROM booked b
    CROSS JOIN LATERAL epassport_outbox_enqueue(
        :kind, b.id, :payload, :created_at, 'appointment:' || b.id || ':' || :event,
        b.replaces_id
    ) AS m (id)
)
SELECT b.id, b.replaces_id, s.id, s.office_id, s.starts_at, s.ends_at, s.capacity, s.booked,
       s.reserved, s.is_open, ARRAY(SELECT id FROM sent ORDER BY id),
       (SELECT id FROM guessed)
FROM (VALUES (1)) AS one (x)
LEFT JOIN booked b ON true
LEFT JOIN appointments_slot s ON s.id = b.slot_id
