-- The tracking benchmark's appointments not yet enrolled (bench/track.py): %(count)s
-- applicants booked, numbered from %(first)s, in free seats of the slots bookable at
-- %(now)s (epassport_bookable_slots, the booking rule's one home) drawn in no particular
-- order; the seat trigger counts them in their slots. References as the booking makes
-- them (4 + 4 characters of %(alphabet)s, appointments.services.booking.new_reference):
-- the number times a constant coprime with 25, modulo 25^8, in base 25.
WITH seats AS (
    SELECT s.id AS slot_id, s.office_id,
           %(first)s::bigint - 1
               + row_number() OVER (ORDER BY hashint8(s.id), s.id, seat) AS g
    FROM epassport_bookable_slots(%(now)s::timestamptz) AS s
    CROSS JOIN LATERAL generate_series(1, s.capacity - s.booked - s.reserved) AS seat
)
INSERT INTO appointments_appointment (
    reference, office_id, slot_id, status, surname, given_names, birth_date, national_id,
    email, phone, language, manage_token_hash, notify_email, notify_sms, code_hash,
    code_attempts, created_at, updated_at
)
SELECT left(c.chars, 4) || '-' || right(c.chars, 4), s.office_id, s.slot_id, 'booked',
       'KEITA', 'Moussa', DATE '1950-01-01' + (abs(hashint8(s.g)::bigint) %% 20000)::int,
       'TRKRDV' || s.g, 'rdv' || s.g || '@bench.example.com',
       '+2237' || lpad((s.g %% 10000000)::text, 7, '0'), 'fr', md5('bench' || s.g) || md5(s.g::text),
       true, true, '', 0,
       %(now)s::timestamptz - make_interval(hours => (s.g %% 240)::int), %(now)s::timestamptz
FROM seats AS s
CROSS JOIN LATERAL (
    SELECT string_agg(
               substr(%(alphabet)s, (div((s.g::numeric * 97531864213) %% 152587890625, 25::numeric ^ i)
                                     %% 25)::int + 1, 1),
               '' ORDER BY i) AS chars
    FROM generate_series(0, 7) AS i
) AS c
WHERE s.g < %(first)s::bigint + %(count)s;
