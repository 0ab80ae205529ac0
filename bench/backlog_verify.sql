-- Exactly-once, checked on the result of a phase of the backlog benchmark (bench/backlog.py),
-- from the rows themselves: how many files are in production and still queued, the events
-- that took files into production, the files without exactly one such event, the files in
-- production outside a batch of their centre, the batches whose size is not the number of
-- their files, and those above their capacity or the centre's.
SELECT
    (SELECT count(*) FROM production_passportfile) AS files,
    (SELECT count(*) FROM production_passportfile WHERE status = 'in_production')
        AS in_production,
    (SELECT count(*) FROM production_passportfile WHERE status = 'queued') AS queued,
    (SELECT count(*) FROM production_fileevent WHERE to_status = 'in_production')
        AS production_events,
    (SELECT count(*) FROM (
        SELECT f.id
        FROM production_passportfile f
        LEFT JOIN production_fileevent e
            ON e.file_id = f.id AND e.from_status = 'queued' AND e.to_status = 'in_production'
        GROUP BY f.id
        HAVING count(e.id) <> 1
    ) AS x) AS files_without_one_event,
    (SELECT count(*)
        FROM production_passportfile f
        LEFT JOIN production_productionbatch b ON b.id = f.batch_id
        WHERE f.status = 'in_production' AND (b.id IS NULL OR b.centre_id <> f.centre_id)
    ) AS files_outside_their_batch,
    (SELECT count(*) FROM production_productionbatch) AS batches,
    (SELECT count(*)
        FROM production_productionbatch b
        LEFT JOIN (
            SELECT batch_id, count(*) AS files FROM production_passportfile GROUP BY batch_id
        ) n ON n.batch_id = b.id
        WHERE b.size <> coalesce(n.files, 0)
    ) AS batches_miscounted,
    (SELECT count(*)
        FROM production_productionbatch b
        JOIN production_centre c ON c.id = b.centre_id
        WHERE b.size > b.capacity OR b.capacity > c.daily_capacity
    ) AS batches_over_capacity
