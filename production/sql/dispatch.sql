-- Take up to :chunk queued files of one centre into its day's production batch, in the
-- dispatcher's priority order (Premium due date, then enrolment time), leaving the files of
-- an office where a suspension is in force: they go `in_production`, one event each
-- without author, and the batch counts them. The batch row is locked by the caller; its
-- check constraint batch_within_capacity refuses a batch over the centre's capacity, and
-- SKIP LOCKED lets several dispatchers share a queue without taking a file twice.
WITH picked AS (
    SELECT f.id
    FROM production_passportfile f
    WHERE f.centre_id = :centre AND f.status = {FileStatus.QUEUED}
      AND NOT EXISTS (SELECT 1 FROM epassport_suspensions_at(f.office_id, :now))
    ORDER BY {queue_order}
    LIMIT :chunk
    FOR UPDATE OF f SKIP LOCKED
), moved AS (
    -- By primary key, as an array: joined to the CTE instead, the planner guesses a hash
    -- join over a sequential scan of every file, once per chunk (bench/backlog.py).
    UPDATE production_passportfile f
    SET status = {FileStatus.IN_PRODUCTION}, batch_id = :batch, updated_at = :now
    WHERE f.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING f.id
), events AS (
    INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
    SELECT moved.id, {FileStatus.QUEUED}, {FileStatus.IN_PRODUCTION}, NULL, :now, :note FROM moved
)
UPDATE production_productionbatch
SET size = size + (SELECT count(*) FROM moved)
WHERE id = :batch
RETURNING (SELECT count(*) FROM moved)
