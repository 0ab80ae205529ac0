-- Who is written to about an appointment, and where: the applicant's email address and
-- phone number, each unless they turned that channel off on the manage page (never both:
-- the check constraint appointment_notify_some_channel), in the applicant's language; no one
-- for an appointment whose identity was erased (appointments/services/retention.py).
-- The one home of that rule for every statement that writes the outbox: enqueue()
-- (appointments/notifications.py), the reminders (services/reminders.sql) and the backlog's
-- holds and releases (production/sql/hold.sql, release.sql). A single SELECT in SQL: the
-- planner inlines it into the statement that calls it. Installed after every `migrate`.
CREATE OR REPLACE FUNCTION epassport_outbox_recipients(bigint)
RETURNS TABLE (channel text, recipient text, language text)
LANGUAGE sql STABLE AS $$
    SELECT c.channel,
           CASE c.channel WHEN 'email' THEN a.email ELSE a.phone END,
           a.language
    FROM appointments_appointment a
    CROSS JOIN (VALUES ('email'), ('sms')) AS c (channel)
    WHERE a.id = $1 AND a.erased_at IS NULL
      AND CASE c.channel WHEN 'email' THEN a.notify_email ELSE a.notify_sms END
    ORDER BY c.channel
$$;
