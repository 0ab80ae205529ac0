-- Erase the identity of the appointments :ids (locked by the caller), once: the texts
-- emptied, birth date, identity number and phone NULL, the manage token's hash gone (its
-- link answers 404), erased_at set; status, slot, office, language, channels and dates stay.
-- Their messages keep kind, status and dates but lose recipient, payload (a token, a
-- rejection's reason) and last error (a refused address); one not sent yet never will be.
-- The check constraint appointment_identity_or_erased proves the result.
WITH erased AS (
    UPDATE appointments_appointment a
    SET surname = '', given_names = '', birth_date = NULL, national_id = NULL, email = '',
        phone = NULL, manage_token_hash = '', email_key = '',
        -- A hold still pending keeps its network until it ends: the trigger that gives the
        -- network its place back reads it then.
        hold_network = CASE WHEN a.status = {AppointmentStatus.PENDING} THEN a.hold_network ELSE '' END,
        erased_at = :now
    WHERE a.id = ANY (:ids) AND a.erased_at IS NULL
    RETURNING a.id
), messages AS (
    UPDATE appointments_outboxmessage m
    SET recipient = '', payload = '{}'::jsonb, last_error = '',
        status = CASE m.status WHEN {OutboxStatus.PENDING} THEN {OutboxStatus.FAILED} ELSE m.status END,
        claimed_until = NULL  -- a sender's claim, if any, then finds it no longer pending
    WHERE m.appointment_id IN (SELECT id FROM erased)
    RETURNING m.id
)
SELECT (SELECT count(*) FROM erased), (SELECT count(*) FROM messages)
