-- The applicant's messages of the files a backlog statement has just moved (hold.sql,
-- release.sql): kind :kind (production/notifications.py gives each move its kind; NULL:
-- none), for a file with an appointment, by the channels the applicant keeps, each keyed by
-- its event, through the outbox's one insert (epassport_outbox_enqueue). The statement's
-- `moved` gives each file's appointment and its message's payload, `events` each file's
-- event. In the order of the events, so that two runs at once never wait on each other's
-- keys in opposite orders.
SELECT m.id
FROM (
    SELECT events.id, events.file_id, events.to_status, moved.appointment_id, moved.payload
    FROM events JOIN moved ON moved.id = events.file_id
    WHERE :kind IS NOT NULL AND moved.appointment_id IS NOT NULL
    ORDER BY events.id
) e
CROSS JOIN LATERAL epassport_outbox_enqueue(
    :kind, e.appointment_id, e.payload, :now,
    'file:' || e.file_id || ':' || e.to_status || ':' || e.id
) AS m (id)
