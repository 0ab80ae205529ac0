-- Rebook up to :chunk displaced appointments of one office, in the order of their
-- original times, into the first seats free at :now by the booking rule
-- (epassport_bookable_slots: the seats held back for displaced appointments are theirs).
-- Each gets a new manage token (its hash stored; the token itself goes back to the caller,
-- for the message that carries the new link). An applicant who holds another active
-- appointment meanwhile is left as they are, and so is an appointment whose identity was
-- erased (services/retention.py: its applicant had moved on). The trigger of migration 0003 counts the seats
-- and slot_within_capacity refuses an overbooking, as for any booking.
WITH locked AS (
    SELECT a.id, s.starts_at
    FROM appointments_appointment a
    JOIN appointments_slot s ON s.id = a.slot_id
    WHERE a.office_id = :office AND a.status = {AppointmentStatus.DISPLACED} AND a.erased_at IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM appointments_appointment b
        WHERE b.national_id = a.national_id AND b.status IN ({AppointmentStatus.BOOKED}, {AppointmentStatus.CHECKED_IN})
      )
    ORDER BY s.starts_at, a.id
    LIMIT :chunk
    FOR UPDATE OF a SKIP LOCKED
), waiting AS (
    SELECT id, row_number() OVER (ORDER BY starts_at, id) AS n FROM locked
), seats AS (
    SELECT b.id AS slot_id, row_number() OVER (ORDER BY b.starts_at, b.id, g) AS n
    FROM epassport_bookable_slots(:now, true) b
    CROSS JOIN LATERAL generate_series(1, b.capacity - b.booked) g
    WHERE b.office_id = :office
), pairs AS (
    SELECT waiting.id, seats.slot_id,
           replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '') AS token
    FROM waiting JOIN seats ON seats.n = waiting.n
), moved AS (
    UPDATE appointments_appointment a
    SET slot_id = pairs.slot_id, status = {AppointmentStatus.BOOKED}, updated_at = :now,
        manage_token_hash = encode(sha256(convert_to(pairs.token, 'UTF8')), 'hex')
    FROM pairs
    WHERE a.id = pairs.id
    RETURNING a.id, a.slot_id, pairs.token
)
SELECT id, slot_id, token FROM moved
