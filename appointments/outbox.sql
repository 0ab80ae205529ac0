-- Who is written to about an appointment, and where: the applicant's email address and
-- phone number, each unless they turned that channel off on the manage page (never both:
-- the check constraint appointment_notify_some_channel), in the applicant's language; no one
-- for an appointment whose identity was erased (appointments/services/retention.py).
-- The one home of that rule for every statement that writes the outbox: enqueue()
-- (appointments/notifications.py), the booking statement (services/book.sql, which writes
-- to the contacts of an appointment it is inserting: epassport_outbox_channels, from the
-- values themselves), the reminders (services/reminders.sql) and the backlog's holds and
-- releases (production/sql/hold.sql, release.sql). Single SELECTs in SQL: the planner
-- inlines them into the statement that calls them. Installed after every `migrate`.
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
