-- The first file of each batch from today on, per centre: the queue in the dispatcher's
-- order (dispatch.sql, files of a suspended office left aside as it leaves them), every
-- :caps-th file after the :rooms today's batch can still take. Each row: the centre, then
-- the file's key in the queue's order (production.models.QUEUE_ORDER).
SELECT q.centre_id, {queue_q}
FROM (
    SELECT f.centre_id, {queue_f},
           row_number() OVER (PARTITION BY f.centre_id ORDER BY {queue_f}) - 1 AS position
    FROM production_passportfile f
    WHERE f.status = {FileStatus.QUEUED}
      -- The offices under a suspension, found once each rather than once per file.
      AND f.office_id <> ALL (ARRAY(
          SELECT o.id FROM appointments_office o
          WHERE EXISTS (SELECT 1 FROM epassport_suspensions_at(o.id, :now))
      ))
) q
JOIN unnest(:centres::bigint[], :rooms::int[], :caps::int[]) AS p(centre_id, room, cap)
  ON p.centre_id = q.centre_id
WHERE q.position >= p.room AND (q.position - p.room) % p.cap = 0
ORDER BY q.centre_id, q.position
