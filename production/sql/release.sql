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
    ORDER BY f.due_date, f.created_at, f.id
    LIMIT :chunk
    FOR UPDATE SKIP LOCKED
), moved AS (
    -- By primary key, as an array (see dispatch.sql).
    UPDATE production_passportfile f
    SET status = {FileStatus.QUEUED}, held_by_service = false, updated_at = :now
    WHERE f.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING f.id, f.appointment_id, f.reference
), events AS (
    INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
    SELECT moved.id, {FileStatus.ON_HOLD}, {FileStatus.QUEUED}, NULL, :now, :note FROM moved
    RETURNING id, file_id
), told AS (
    -- The outbox's one insert (epassport_outbox_enqueue), in the order of the events.
    SELECT m.id
    FROM (
        SELECT events.id, events.file_id, moved.appointment_id, moved.reference
        FROM events JOIN moved ON moved.id = events.file_id
        WHERE :kind IS NOT NULL AND moved.appointment_id IS NOT NULL
        ORDER BY events.id
    ) e
    CROSS JOIN LATERAL epassport_outbox_enqueue(
        :kind, e.appointment_id,
        jsonb_build_object('file_reference', e.reference),
        :now, 'file:' || e.file_id || ':queued:' || e.id
    ) AS m (id)
)
-- told is a plain SELECT: PostgreSQL runs it only if the statement reads it.
SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM told)
