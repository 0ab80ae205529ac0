-- The next :chunk appointments (after id :after, in id order) whose identity may be
-- erased at :now: their slot ended before :cutoff (RETENTION_APPOINTMENT_DAYS ago) and
-- they led to no passport file (`enrolled` ones are erased with their file, by
-- production.retention). A displaced appointment waits for a new time (the backlog rebooks
-- it once booking is open at its office, however long a suspension lasts): it is erased only
-- when it will not be rebooked: its office inactive for as long as the retention (since
-- deactivated_at, kept by the database: an office made inactive for a while may reopen and
-- its displaced applicants then book again), or its applicant holding another active
-- appointment (the dispatcher's own test, rebook.sql: the partial
-- unique index on national_id answers it). Rows another worker holds are skipped.
SELECT a.id
FROM appointments_appointment a
JOIN appointments_slot s ON s.id = a.slot_id
JOIN appointments_office o ON o.id = a.office_id
WHERE a.erased_at IS NULL
  AND a.id > :after
  AND s.ends_at < :cutoff
  AND a.status <> {AppointmentStatus.ENROLLED}
  AND (
    a.status <> {AppointmentStatus.DISPLACED}
    OR (NOT o.active AND o.deactivated_at < :cutoff)
    OR EXISTS (
        SELECT 1 FROM appointments_appointment b
        WHERE b.national_id = a.national_id AND b.status IN ({AppointmentStatus.BOOKED}, {AppointmentStatus.CHECKED_IN})
    )
  )
ORDER BY a.id
LIMIT :chunk
FOR UPDATE OF a SKIP LOCKED
