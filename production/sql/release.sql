-- Release up to :chunk files that the service put on hold and whose office has no
-- suspension in force any more (epassport_suspensions_at, the booking rule's own
-- function): they go `queued`, oldest promise first, one event each without author, and
-- for a file with an appointment the applicant's messages (kind :kind, which
-- production/notifications.py gives this move; NULL: none), keyed by the event, as in
-- hold.sql. Returns the number of files released.
WITH picked AS (
    SELECT f.id
    FROM production_passportfile f
    WHERE f.held_by_service
      AND NOT EXISTS (SELECT 1 FROM epassport_suspensions_at(f.office_id, :now))
    ORDER BY {queue_order}
    LIMIT :chunk
    FOR UPDATE SKIP LOCKED
), moved AS (
    -- By primary key, as an array (see dispatch.sql).
    UPDATE production_passportfile f
    SET status = {FileStatus.QUEUED}, held_by_service = false, updated_at = :now
    WHERE f.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING f.id, f.appointment_id,
    jsonb_build_object('file_reference', f.reference) AS payload
), events AS (
    INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
    SELECT moved.id, {FileStatus.ON_HOLD}, {FileStatus.QUEUED}, NULL, :now, :note FROM moved
    RETURNING id, file_id, to_status
), told AS (
    {told}
)
-- told is a plain SELECT: PostgreSQL runs it only if the statement reads it.
SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM told)
