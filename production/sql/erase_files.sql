-- Erase the identity of the next :chunk files in :status (after id :after, in id
-- order) that reached it before :cutoff (their last event to that status: `delivered`
-- RETENTION_FILE_DAYS ago, `rejected` RETENTION_REJECTED_DAYS ago, `ready` and never
-- collected RETENTION_UNCOLLECTED_DAYS ago): names, identity number, date of birth and
-- rejection text go, erased_at is set; status, dates, office, centre, batch and events
-- stay. Rows another worker holds are skipped. Returns each file's id and its appointment's,
-- which the caller erases in the same transaction (appointments.services.appointments_erase).
WITH picked AS (
    SELECT f.id
    FROM production_passportfile f
    WHERE f.status = :status AND f.erased_at IS NULL AND f.id > :after
      AND (
        SELECT max(e.at) FROM production_fileevent e
        WHERE e.file_id = f.id AND e.to_status = :status
      ) < :cutoff
    ORDER BY f.id
    LIMIT :chunk
    FOR UPDATE SKIP LOCKED
)
UPDATE production_passportfile f
SET surname = '', given_names = '', national_id = '', birth_date = NULL,
    rejection_reason = '', erased_at = :now
WHERE f.id = ANY (ARRAY(SELECT id FROM picked))
RETURNING f.id, f.appointment_id
