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
    INSERT INTO appointments_outboxmessage
        (channel, kind, appointment_id, recipient, language, payload, status, attempts,
         next_attempt_at, last_error, created_at, idempotency_key)
    SELECT r.channel, :kind, moved.appointment_id, r.recipient, r.language,
           jsonb_build_object('file_reference', moved.reference),
           {OutboxStatus.PENDING}, 0, :now, '', :now,
           'file:' || events.file_id || ':queued:' || events.id
    FROM events
    JOIN moved ON moved.id = events.file_id
    CROSS JOIN LATERAL epassport_outbox_recipients(moved.appointment_id) r
    WHERE :kind IS NOT NULL AND moved.appointment_id IS NOT NULL
    ORDER BY events.id, r.channel
    ON CONFLICT (idempotency_key, channel) DO NOTHING
)
SELECT count(*) FROM events
