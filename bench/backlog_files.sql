-- The backlog benchmark's queue (bench/backlog.py): %(files)s passport files `queued`,
-- spread in turn over the centres %(centres)s (their offices %(offices)s, same order), each
-- with the event that queued it. Enrolled over the last 30 days in an order that is not
-- their ids', promised 10 to 12 days later, so that the dispatcher's priority order (due
-- date, then enrolment) is not the table's order. References BENCH00000001... are unique.
WITH files AS (
    INSERT INTO production_passportfile (
        reference, office_id, centre_id, status, surname, given_names, national_id,
        due_date, rejection_reason, held_by_service, created_at, updated_at
    )
    SELECT 'BENCH' || lpad(g::text, 8, '0'),
           (%(offices)s::bigint[])[1 + g %% cardinality(%(offices)s::bigint[])],
           (%(centres)s::bigint[])[1 + g %% cardinality(%(centres)s::bigint[])],
           'queued', 'TRAORE', 'Awa', 'BENCH' || g,
           (enrolled AT TIME ZONE 'Africa/Bamako')::date + 10 + g %% 3,
           '', false, enrolled, enrolled
    FROM generate_series(1, %(files)s) AS g
    CROSS JOIN LATERAL (
        SELECT %(now)s::timestamptz
               - make_interval(secs => (g::bigint * 7919 %% %(files)s) * 2592000.0 / %(files)s)
               AS enrolled
    ) AS t
    RETURNING id, created_at
)
INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
SELECT id, 'enrolled', 'queued', NULL, created_at, '' FROM files
