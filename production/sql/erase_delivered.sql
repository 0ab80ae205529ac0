-- Erase the identity of the next %(chunk)s delivered files (after id %(after)s, in id order)
-- whose passport was handed over before %(cutoff)s (their `delivered` event,
-- RETENTION_FILE_DAYS ago): names, identity number, date of birth and rejection text go,
-- erased_at is set; status, dates, office, centre, batch and events stay. Rows another
-- worker holds are skipped. Returns each file's id and its appointment's, which the caller
-- erases in the same transaction (appointments.services.appointments_erase).
WITH picked AS (
    SELECT f.id
    FROM production_passportfile f
    WHERE f.status = 'delivered' AND f.erased_at IS NULL AND f.id > %(after)s
      AND EXISTS (
        SELECT 1 FROM production_fileevent e
        WHERE e.file_id = f.id AND e.to_status = 'delivered' AND e.at < %(cutoff)s
      )
    ORDER BY f.id
    LIMIT %(chunk)s
    FOR UPDATE SKIP LOCKED
)
UPDATE production_passportfile f
SET surname = '', given_names = '', national_id = '', birth_date = NULL,
    rejection_reason = '', erased_at = %(now)s
WHERE f.id = ANY (ARRAY(SELECT id FROM picked))
RETURNING f.id, f.appointment_id
