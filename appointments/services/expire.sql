-- The pending holds lapsed by :now become `expired`, at most :chunk of them; the seat
-- trigger frees each one's seat. Rows locked by another transaction (a confirmation under
-- way, services/verification.py) are skipped, not waited for. Locking a row checks its
-- conditions again on its latest version, so a hold confirmed meanwhile is left alone: a
-- hold ends once, either way.
UPDATE appointments_appointment a
SET status = {AppointmentStatus.EXPIRED}, updated_at = :now
WHERE a.status = {AppointmentStatus.PENDING}
  AND a.id IN (
    SELECT l.id FROM appointments_appointment l
    WHERE l.status = {AppointmentStatus.PENDING} AND l.hold_expires_at <= :now
    ORDER BY l.hold_expires_at, l.id
    LIMIT :chunk
    FOR UPDATE SKIP LOCKED
  )
