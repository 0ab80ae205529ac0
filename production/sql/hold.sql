-- Put on hold, by the service, up to :chunk files of one suspended office that wait for
-- production (enrolled or queued): one event each, without author, naming the suspension,
-- and for a file with an appointment the applicant's messages (kind :kind, which
-- production/notifications.py gives this move; NULL: none) by the channels they keep
-- (epassport_outbox_recipients), each keyed by its event. Rows another transaction holds are
-- skipped (a member of staff moving one), taken next run. Returns the number of files held.
WITH picked AS (
    SELECT f.id, f.status
    FROM production_passportfile f
    WHERE f.office_id = :office AND f.status IN ({FileStatus.ENROLLED}, {FileStatus.QUEUED})
    ORDER BY f.id
    LIMIT :chunk
    FOR UPDATE SKIP LOCKED
), moved AS (
    -- By primary key, as an array (see dispatch.sql).
    UPDATE production_passportfile f
    SET status = {FileStatus.ON_HOLD}, held_by_service = true, suspension_id = :suspension,
        updated_at = :now
    WHERE f.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING f.id, f.appointment_id,
    jsonb_build_object(
        'file_reference', f.reference, 'suspended', true,
        'reopens_at', (SELECT reopens_at FROM appointments_suspension WHERE id = :suspension)
    ) AS payload
), events AS (
    INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
    SELECT moved.id, picked.status, {FileStatus.ON_HOLD}, NULL, :now, :note
    FROM moved JOIN picked ON picked.id = moved.id
    RETURNING id, file_id, to_status
), told AS (
    {told}
)
-- told is a plain SELECT: PostgreSQL runs it only if the statement reads it.
SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM told)
