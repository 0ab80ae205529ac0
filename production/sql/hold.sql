-- Put on hold, by the service, up to %(chunk)s files of one suspended office that wait for
-- production (enrolled or queued): one event each, without author, naming the suspension.
-- Rows another transaction holds are skipped (a member of staff moving one), taken next run.
WITH picked AS (
    SELECT f.id, f.status
    FROM production_passportfile f
    WHERE f.office_id = %(office)s AND f.status IN ('enrolled', 'queued')
    ORDER BY f.id
    LIMIT %(chunk)s
    FOR UPDATE SKIP LOCKED
), moved AS (
    -- By primary key, as an array (see dispatch.sql).
    UPDATE production_passportfile f
    SET status = 'on_hold', held_by_service = true, suspension_id = %(suspension)s,
        updated_at = %(now)s
    WHERE f.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING f.id
)
INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
SELECT moved.id, picked.status, 'on_hold', NULL, %(now)s, %(note)s
FROM moved JOIN picked ON picked.id = moved.id
