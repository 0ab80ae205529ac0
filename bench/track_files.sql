-- The tracking benchmark's passport files (bench/track.py), as they stand some days after a
-- reopening: %(files)s files numbered from %(first)s, each enrolled at an office drawn from
-- %(offices)s (one entry per percent of the files: the weights) and produced by the centre
-- at the same place of %(centres)s; a status drawn from the mix below, a birth date, and
-- one event per step of its way to that status (1 to 7: a mission's file travels by pouch).
--
--   in 100 files: delivered 22, ready 12 (and the centre's files of the next 3),
--   in_transit 3 (a mission's files only), quality_check 2, in_production 3, rejected 1,
--   enrolled 5, on_hold by staff 1, queued 51; the waiting files (enrolled, queued) of
--   an office of %(suspended)s are on hold, held by the service for the suspension
--   %(suspension)s.
--
-- References are file numbers as the counters make them (D + 10 characters of %(alphabet)s,
-- production.services.file_reference): the file's number times a constant coprime with 25,
-- modulo 25^10, in base 25: unique, and in no visible order. Draws come from hashint8 of
-- the number: the same files every run.
WITH drawn AS (
    SELECT g,
           1 + abs(hashint8(g)::bigint) %% 100 AS place,
           abs(hashint8(-g)::bigint) %% 100 AS bucket,
           abs(hashint8(g # 1431655765)::bigint) %% 1000 AS spread,  -- 0..999, for times
           (g::numeric * 58374917263341) %% 95367431640625 AS code
    FROM generate_series(%(first)s::bigint, %(first)s::bigint + %(files)s - 1) AS g
), placed AS (
    SELECT d.*,
           (%(offices)s::bigint[])[place] AS office_id,
           (%(centres)s::bigint[])[place] AS centre_id,
           (%(offices)s::bigint[])[place] = ANY(%(missions)s::bigint[]) AS at_mission,
           (%(offices)s::bigint[])[place] = ANY(%(suspended)s::bigint[]) AS suspended
    FROM drawn d
), typed AS (
    SELECT p.*,
           CASE
               WHEN bucket < 22 THEN 'delivered'
               WHEN bucket < 34 THEN 'ready'
               WHEN bucket < 37 THEN CASE WHEN at_mission THEN 'in_transit' ELSE 'ready' END
               WHEN bucket < 39 THEN 'quality_check'
               WHEN bucket < 42 THEN 'in_production'
               WHEN bucket < 43 THEN 'rejected'
               WHEN bucket = 48 THEN 'on_hold'
               WHEN suspended THEN 'on_hold'
               WHEN bucket < 48 THEN 'enrolled'
               ELSE 'queued'
           END AS status,
           suspended AND bucket >= 43 AND bucket <> 48 AS held
    FROM placed p
), timed AS (
    -- Enrolled that long ago (the oldest the furthest along), its last move since then.
    SELECT t.*,
           %(now)s::timestamptz - make_interval(secs => 86400 * CASE status
               WHEN 'delivered' THEN 20 + spread / 25.0
               WHEN 'ready' THEN 6 + spread / 70.0
               WHEN 'in_transit' THEN 4 + spread / 250.0
               WHEN 'enrolled' THEN spread / 1000.0
               WHEN 'queued' THEN spread / 33.0
               WHEN 'on_hold' THEN 1 + spread / 33.0
               ELSE 2 + spread / 80.0
           END) AS enrolled_at,
           spread / 1100.0 AS last_share  -- of the time since enrolment, to the last move
    FROM typed t
), files AS (
    INSERT INTO production_passportfile (
        reference, office_id, centre_id, status, surname, given_names, national_id,
        birth_date, due_date, rejection_reason, held_by_service, suspension_id,
        created_at, updated_at
    )
    SELECT 'D' || left(c.chars, 5) || '-' || right(c.chars, 5),
           office_id, centre_id, status, 'TRAORE', 'Awa', 'TRK' || g,
           DATE '1950-01-01' + (abs(hashint8(g # 715827882)::bigint) %% 20000)::int,
           (enrolled_at AT TIME ZONE 'Africa/Bamako')::date
               + CASE WHEN at_mission THEN 14 ELSE 10 END,
           CASE WHEN status = 'rejected' THEN 'Photo d’identité non conforme.' ELSE '' END,
           held, CASE WHEN held THEN %(suspension)s::bigint END,
           enrolled_at,
           enrolled_at + (%(now)s::timestamptz - enrolled_at) * (1 - last_share)
    FROM timed
    CROSS JOIN LATERAL (
        SELECT string_agg(substr(%(alphabet)s, (div(code, 25::numeric ^ i) %% 25)::int + 1, 1),
                          '' ORDER BY i) AS chars
        FROM generate_series(0, 9) AS i
    ) AS c
    RETURNING id, office_id, status, held_by_service, created_at, updated_at
)
INSERT INTO production_fileevent (file_id, from_status, to_status, by_id, at, note)
SELECT f.id, coalesce(w.path[(s.k - 1)::int], ''), s.status, NULL,
       f.created_at + (f.updated_at - f.created_at) * ((s.k - 1)::float8
           / greatest(cardinality(w.path) - 1, 1)),
       ''
FROM files f
CROSS JOIN LATERAL (
    SELECT CASE f.status
        WHEN 'enrolled' THEN ARRAY['enrolled']
        WHEN 'queued' THEN ARRAY['enrolled', 'queued']
        WHEN 'on_hold' THEN CASE WHEN f.held_by_service
            THEN ARRAY['enrolled', 'queued', 'on_hold'] ELSE ARRAY['enrolled', 'on_hold'] END
        WHEN 'rejected' THEN ARRAY['enrolled', 'queued', 'rejected']
        ELSE (ARRAY['enrolled', 'queued', 'in_production', 'quality_check']
              || CASE WHEN f.office_id = ANY(%(missions)s::bigint[])
                      THEN ARRAY['in_transit'] ELSE ARRAY[]::text[] END
              || ARRAY['ready', 'delivered'])
    END AS path
) AS p
CROSS JOIN LATERAL (
    -- A long way stops at the file's status.
    SELECT p.path[1:array_position(p.path, f.status::text)] AS path
) AS w
CROSS JOIN LATERAL unnest(w.path) WITH ORDINALITY AS s(status, k);

-- The new files in production are in their centre's batches: yesterday's up to its daily
-- capacity, today's (Bamako's day) the rest; a batch made by an earlier fill takes them on.
WITH ranked AS (
    SELECT f.id, f.centre_id, c.daily_capacity AS capacity,
           row_number() OVER (PARTITION BY f.centre_id ORDER BY f.created_at, f.id) AS n
    FROM production_passportfile f
    JOIN production_centre c ON c.id = f.centre_id
    WHERE f.status = 'in_production' AND f.batch_id IS NULL
), days AS (
    SELECT id, centre_id, capacity,
           (%(now)s::timestamptz AT TIME ZONE 'Africa/Bamako')::date
               - CASE WHEN n <= capacity THEN 1 ELSE 0 END AS day
    FROM ranked
), batches AS (
    INSERT INTO production_productionbatch (centre_id, day, capacity, size, created_at)
    SELECT centre_id, day, greatest(max(capacity), count(*)), count(*), %(now)s
    FROM days
    GROUP BY centre_id, day
    ON CONFLICT (centre_id, day) DO UPDATE
    SET size = production_productionbatch.size + excluded.size,
        capacity = greatest(production_productionbatch.capacity,
                            production_productionbatch.size + excluded.size)
    RETURNING id, centre_id, day
)
UPDATE production_passportfile f
SET batch_id = b.id
FROM days d
JOIN batches b ON b.centre_id = d.centre_id AND b.day = d.day
WHERE f.id = d.id;
