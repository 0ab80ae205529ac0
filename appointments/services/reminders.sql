-- The reminders of the day before: one booking_reminder (email and SMS, by the channels the
-- applicant keeps: epassport_outbox_recipients) for every booked appointment whose slot
-- starts on the local day after :now's at its office. Set-based; idempotent by key (the
-- appointment and its slot): run every hour, or twice at once, each appointment is reminded
-- once, and once again only if it is moved to another slot of a next day. Rows go in one
-- order (the sorted subquery, which PostgreSQL does not flatten, and the channels in the
-- order of epassport_outbox_enqueue), so that two runs at once wait for each other on a key
-- instead of deadlocking. Returns how many messages were written.
SELECT count(*)
FROM (
    SELECT a.id, a.slot_id
    FROM appointments_slot s
    JOIN appointments_office o ON o.id = s.office_id
    JOIN appointments_appointment a ON a.slot_id = s.id AND a.status = {AppointmentStatus.BOOKED}
    -- Tomorrow, anywhere, begins within 24 hours and ends within 48: the range keeps the
    -- scan to the next two days' slots, the local dates decide.
    WHERE s.starts_at > :now AND s.starts_at < :now + interval '50 hours'
      AND (s.starts_at AT TIME ZONE o.timezone)::date
          = (:now::timestamptz AT TIME ZONE o.timezone)::date + 1
    ORDER BY s.starts_at, a.id
) due
CROSS JOIN LATERAL epassport_outbox_enqueue(
    'booking_reminder', due.id, '{}', :now, 'appointment:' || due.id || ':reminder:' || due.slot_id
) AS m (id)
