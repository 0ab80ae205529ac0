-- Release up to %(chunk)s files that the service put on hold and whose office has no
-- suspension in force any more (epassport_suspensions_at, the booking rule's own
-- function): they go `queued`, oldest promise first, one event each without author.
WITH picked AS (
    SELECT f.id
    FROM production_passportfile f
    WHERE f.held_by_service
      AND NOT EXISTS (SELECT 1 FROM epassport_suspensions_at(f.office_id, %(now)s))
    ORDER BY f.due_date, f.created_at, f.id
    LIMIT %(chunk)s
    FOR UPDATE SKIP LOCKED
), moved AS (
    -- By primary key, as an array (see dispatch.sql).
    UPDATE production_passportfile f
    SET status = 'queued', held_by_service = false, updated_at = %(now)s
    WHERE f.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING f.id
)
INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
SELECT moved.id, 'on_hold', 'queued', NULL, %(now)s, %(note)s FROM moved
