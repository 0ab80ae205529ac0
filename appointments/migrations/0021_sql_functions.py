"""The SQL functions the statements call, created by this migration instead of after every
`migrate` (they were installed by post_migrate handlers from appointments/eligibility.sql and
outbox.sql). The text below is frozen as it is when this migration is written: a later change
of a function is a new migration with its CREATE OR REPLACE, so that a database's functions
are those of its migration state, and test_eligibility.py (the rule in SQL against its twin
in Python) and test_notifications.py keep them honest.

- epassport_suspensions_at, epassport_bookable_slots: is this slot bookable now? The rule's
  Python twin is appointments/eligibility.py (verdict()). Plain SQL of one SELECT, STABLE,
  not STRICT: PostgreSQL inlines them into the query that calls them (from a FROM clause),
  so the booking statement and the availability queries are planned as if the rule were
  written in each of them.
- epassport_outbox_channels, epassport_outbox_recipients: who is written to about an
  appointment, and where: the applicant's email address and phone number, each unless they
  turned that channel off on the manage page (never both: the check constraint
  appointment_notify_some_channel), in the applicant's language; no one for an appointment
  whose identity was erased. Single SELECTs, inlined as well.
- epassport_outbox_enqueue: the one insert into the outbox, for every statement that writes
  it (appointments.notifications.enqueue, the booking statement, the reminders, the
  backlog's holds and releases). PL/pgSQL so that its plan is kept for the session (a SQL
  function that writes is planned again at every call); VOLATILE, so that it sees the rows
  the calling statement has written before calling it (the appointment a booking has just
  inserted, whose contacts it reads). Returns the ids of the messages written: none for an
  event written before (its idempotency key and channel are taken: ON CONFLICT DO NOTHING).
  The channels go in one order, so that two statements writing the same keys at once wait
  for each other instead of deadlocking.
"""

from django.db import migrations

FUNCTIONS = r"""
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

-- epassport_outbox_channels(email, phone, language, notify_email, notify_sms)
CREATE OR REPLACE FUNCTION epassport_outbox_channels(text, text, text, boolean, boolean)
RETURNS TABLE (channel text, recipient text, language text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT c.channel,
           CASE c.channel WHEN 'email' THEN $1 ELSE $2 END,
           $3
    FROM (VALUES ('email'), ('sms')) AS c (channel)
    WHERE CASE c.channel WHEN 'email' THEN $4 ELSE $5 END
    ORDER BY c.channel
$$;

CREATE OR REPLACE FUNCTION epassport_outbox_recipients(bigint)
RETURNS TABLE (channel text, recipient text, language text)
LANGUAGE sql STABLE AS $$
    SELECT r.channel, r.recipient, r.language
    FROM appointments_appointment a
    CROSS JOIN LATERAL epassport_outbox_channels(
        a.email, a.phone, a.language, a.notify_email, a.notify_sms
    ) r
    WHERE a.id = $1 AND a.erased_at IS NULL
    ORDER BY r.channel
$$;

-- The messages of one event of an appointment, to the recipients of `p_recipients_of`
-- (another appointment whose holder is told instead: the code of a hold goes to the
-- booking it would replace) or of the appointment itself.
CREATE OR REPLACE FUNCTION epassport_outbox_enqueue(
    p_kind text,
    p_appointment bigint,
    p_payload jsonb,
    p_at timestamptz,
    p_key text,
    p_recipients_of bigint DEFAULT NULL
)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY
    INSERT INTO appointments_outboxmessage
        (channel, kind, appointment_id, recipient, language, payload, status, attempts,
         next_attempt_at, last_error, created_at, idempotency_key)
    SELECT r.channel, p_kind, p_appointment, r.recipient, r.language, p_payload, 'pending', 0,
           p_at, '', p_at, p_key
    FROM epassport_outbox_recipients(coalesce(p_recipients_of, p_appointment)) r
    ORDER BY r.channel
    ON CONFLICT (idempotency_key, channel) DO NOTHING
    RETURNING id;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS epassport_outbox_enqueue(text, bigint, jsonb, timestamptz, text, bigint);
DROP FUNCTION IF EXISTS epassport_outbox_recipients(bigint);
DROP FUNCTION IF EXISTS epassport_outbox_channels(text, text, text, boolean, boolean);
DROP FUNCTION IF EXISTS epassport_bookable_slots(timestamptz, boolean);
DROP FUNCTION IF EXISTS epassport_suspensions_at(bigint, timestamptz);
"""


class Migration(migrations.Migration):
    dependencies = [("appointments", "0020_outbox_to_core")]

    operations = [migrations.RunSQL(FUNCTIONS, reverse_sql=DROP)]
