-- The backlog benchmark's queue (bench/backlog.py): %(files)s passport files `queued`,
-- spread in turn over the centres %(centres)s (their offices %(offices)s, same order), each
-- with the event that queued it. Enrolled one after another over the last 30 days, as the
-- counters do (the table's order), each promised 10 days after its enrolment, and one in
-- four of a centre's 14 days after (as a mission's file, which travels by pouch): the
-- dispatcher's priority order (due date, then enrolment) interleaves two runs of the
-- table's order. References BENCH00000001... are unique.
WITH files AS (
    INSERT INTO production_passportfile (
        reference, office_id, centre_id, status, surname, given_names, national_id,
        due_date, rejection_reason, held_by_service, created_at, updated_at
    )
    SELECT 'BENCH' || lpad(g::text, 8, '0'),
           (%(offices)s::bigint[])[1 + g %% cardinality(%(offices)s::bigint[])],
           (%(centres)s::bigint[])[1 + g %% cardinality(%(centres)s::bigint[])],
           'queued', 'TRAORE', 'Awa', 'BENCH' || g,
           (enrolled AT TIME ZONE 'Africa/Bamako')::date + CASE WHEN nth %% 4 = 0 THEN 14 ELSE 10 END,
           '', false, enrolled, enrolled
    FROM generate_series(1, %(files)s) AS g
    CROSS JOIN LATERAL (
        SELECT %(now)s::timestamptz
               - make_interval(secs => (%(files)s - g) * 2592000.0 / %(files)s) AS enrolled,
               g / cardinality(%(centres)s::bigint[]) AS nth  -- of its centre's files
    ) AS t
    RETURNING id, created_at
)
INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
SELECT id, 'enrolled', 'queued', NULL, created_at, '' FROM files
