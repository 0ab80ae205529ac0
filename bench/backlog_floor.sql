-- The floor of the backlog benchmark (bench/backlog.py): the work of the dispatcher
-- (production/sql/dispatch.sql) done in one set-based statement, without chunks, locks,
-- priority order or Python: each centre's batch of its local day holding all its queued
-- files, which go `in_production` in it, one event each without author. It assumes what the
-- benchmark sets up: no batch yet, no suspension, capacity enough for every queue (the
-- check constraint batch_within_capacity would refuse the statement otherwise).
WITH queues AS (
    SELECT centre_id, count(*) AS files
    FROM production_passportfile
    WHERE status = 'queued'
    GROUP BY centre_id
), batches AS (
    INSERT INTO production_productionbatch (centre_id, day, capacity, size, created_at)
    SELECT c.id, (%(now)s::timestamptz AT TIME ZONE o.timezone)::date, c.daily_capacity,
           q.files, %(now)s
    FROM production_centre c
    JOIN appointments_office o ON o.id = c.office_id
    JOIN queues q ON q.centre_id = c.id
    RETURNING id, centre_id
), moved AS (
    UPDATE production_passportfile f
    SET status = 'in_production', batch_id = b.id, updated_at = %(now)s
    FROM batches b
    WHERE f.centre_id = b.centre_id AND f.status = 'queued'
    RETURNING f.id
)
INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
SELECT id, 'queued', 'in_production', NULL, %(now)s, %(note)s FROM moved
