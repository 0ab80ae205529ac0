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
    RETURNING f.id, f.appointment_id, f.reference
), events AS (
    INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
    SELECT moved.id, picked.status, {FileStatus.ON_HOLD}, NULL, :now, :note
    FROM moved JOIN picked ON picked.id = moved.id
    RETURNING id, file_id
), told AS (
    INSERT INTO appointments_outboxmessage
        (channel, kind, appointment_id, recipient, language, payload, status, attempts,
         next_attempt_at, last_error, created_at, idempotency_key)
    SELECT r.channel, :kind, moved.appointment_id, r.recipient, r.language,
           jsonb_build_object(
               'file_reference', moved.reference, 'suspended', true,
               'reopens_at', (SELECT reopens_at FROM appointments_suspension
                              WHERE id = :suspension)
           ),
           {OutboxStatus.PENDING}, 0, :now, '', :now,
           'file:' || events.file_id || ':on_hold:' || events.id
    FROM events
    JOIN moved ON moved.id = events.file_id
    CROSS JOIN LATERAL epassport_outbox_recipients(moved.appointment_id) r
    WHERE :kind IS NOT NULL AND moved.appointment_id IS NOT NULL
    ORDER BY events.id, r.channel
    ON CONFLICT (idempotency_key, channel) DO NOTHING
)
SELECT count(*) FROM events
