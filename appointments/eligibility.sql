-- Who may book what, and when: the rule in SQL. Its twin in Python, for telling an applicant
-- why a slot is refused, is `eligibility.py` beside this file; test_eligibility.py proves
-- that the two agree on every case. Installed by eligibility.install() after every
-- `migrate` (CREATE OR REPLACE), so the database always runs the rule written here.
--
-- Both are plain SQL functions of one SELECT, STABLE and not STRICT: PostgreSQL inlines them
-- into the query that calls them (from a FROM clause), so the booking statement and the
-- availability queries are planned as if the rule were written in each of them.

-- The suspensions in force at an office at a moment: they began at or before it, have not
-- reopened by then (no reopening date: until further notice), and concern every office (none
-- listed) or list this one.
CREATE OR REPLACE FUNCTION epassport_suspensions_at(p_office bigint, p_at timestamptz)
RETURNS SETOF appointments_suspension
LANGUAGE sql STABLE
AS $$
    SELECT x.*
    FROM appointments_suspension x
    WHERE x.starts_at <= p_at
      AND (x.reopens_at IS NULL OR x.reopens_at > p_at)
      AND (
        NOT EXISTS (
          SELECT 1 FROM appointments_suspension_offices l WHERE l.suspension_id = x.id
        )
        OR EXISTS (
          SELECT 1 FROM appointments_suspension_offices l
          WHERE l.suspension_id = x.id AND l.office_id = p_office
        )
      )
$$;

-- The slots bookable at `p_now`: the office is active, the slot open, starting after
-- `p_now`, with a seat left (the seats held back for displaced appointments after a
-- reopening count as taken, except for those appointments: `p_displaced`), and no
-- suspension of the office is in force now or at the slot's start.
DROP FUNCTION IF EXISTS epassport_bookable_slots(timestamptz);
CREATE OR REPLACE FUNCTION epassport_bookable_slots(
    p_now timestamptz, p_displaced boolean DEFAULT false
)
RETURNS SETOF appointments_slot
LANGUAGE sql STABLE
AS $$
    SELECT s.*
    FROM appointments_slot s
    JOIN appointments_office o ON o.id = s.office_id
    WHERE o.active
      AND s.is_open
      AND s.starts_at > p_now
      AND s.booked + CASE WHEN p_displaced THEN 0 ELSE s.reserved END < s.capacity
      AND NOT EXISTS (SELECT 1 FROM epassport_suspensions_at(s.office_id, p_now))
      AND NOT EXISTS (SELECT 1 FROM epassport_suspensions_at(s.office_id, s.starts_at))
$$;
