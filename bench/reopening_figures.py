"""The figures of the reopening benchmark (bench/reopening.py): the data it starts from (one
office, its seats, the suspension that reopens), what the database holds while it runs
(sampled every second), what it holds at the end (overbooked slots, codes sent late) and the
statistics (percentiles, Kendall's tau). What is printed and written as JSON from them, and
the goals, are in reopening_summary.py."""

from __future__ import annotations

import bisect
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bench.reopening_stage import ATTACKER_NINA_PREFIX
from bench.report import SEAT_HOLDING

# The seat trigger counts holds too (contact verification): a seat is taken by these.
SEAT_TAKING = ("pending", *SEAT_HOLDING)
OFFICE_CODE = "bko-reouverture"
LATE_CODE_SECONDS = 60


@dataclass
class Office:
    id: int
    code: str
    seats: int
    slots: int
    first_day: date
    last_day: date
    suspension_id: int


def create_office(*, seats: int, capacity: int) -> Office:
    """One Bamako centre with `seats` seats in slots of `capacity` seats (15 minutes each,
    from the day after tomorrow, 08:00 to 16:00 local time, every day), suspended for a
    week; the reopening is set by `set_reopening` once everything is started. The suspension
    is written directly: no appointment is displaced, so no seat is held back for
    displaced ones (Slot.reserved stays 0) and every seat is offered."""
    import django

    django.setup()
    from django.db import connection, transaction

    from appointments.models import Slot, Suspension
    from core.models import Office as OfficeModel

    now = datetime.now(UTC)
    day = (now + timedelta(days=2)).date()
    starts, left = [], seats
    while left > 0:
        for quarter in range(8 * 4):
            if left <= 0:
                break
            at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)  # Bamako is UTC
            starts.append((at + timedelta(minutes=15 * quarter), min(capacity, left)))
            left -= capacity
        day += timedelta(days=1)
    with transaction.atomic():
        office = OfficeModel.objects.create(
            code=OFFICE_CODE,
            name="Centre de production de Bamako (réouverture)",
            name_en="Bamako production centre (reopening)",
            kind=OfficeModel.Kind.CENTRE,
            city="Bamako",
            country="ML",
            timezone="Africa/Bamako",
        )
        Slot.objects.bulk_create(
            [
                Slot(
                    office=office,
                    starts_at=at,
                    ends_at=at + timedelta(minutes=15),
                    capacity=room,
                )
                for at, room in starts
            ]
        )
        suspension = Suspension.objects.create(
            starts_at=now - timedelta(days=7),
            reopens_at=now + timedelta(hours=1),
            message="Le service Premium est suspendu ; il rouvre à l’heure annoncée.",
            message_en="The Premium service is suspended; it reopens at the announced time.",
        )
        suspension.offices.set([office])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.close()
    return Office(
        id=office.pk,
        code=office.code,
        seats=seats,
        slots=len(starts),
        first_day=starts[0][0].date(),
        last_day=starts[-1][0].date(),
        suspension_id=suspension.pk,
    )


def set_reopening(office: Office, reopens_at: datetime) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE appointments_suspension SET reopens_at = %s WHERE id = %s",
            [reopens_at, office.suspension_id],
        )
    connection.close()


# While it runs --------------------------------------------------------------------------------

_SAMPLE_SQL = """
SELECT
    count(*) FILTER (WHERE attacker AND status = 'pending'),
    count(*) FILTER (WHERE attacker AND status <> 'pending'),
    count(*) FILTER (WHERE NOT attacker AND status = 'pending'),
    count(*) FILTER (WHERE NOT attacker AND status <> 'pending')
FROM (
    SELECT status, national_id LIKE %s AS attacker
    FROM appointments_appointment
    WHERE office_id = %s AND status = ANY(%s)
) AS seats
"""


@dataclass
class Sample:
    at: float  # seconds from reopens_at
    attacker_held: int
    attacker_booked: int
    applicants_held: int
    applicants_booked: int

    @property
    def attacker(self) -> int:
        return self.attacker_held + self.attacker_booked

    @property
    def applicants(self) -> int:
        return self.applicants_held + self.applicants_booked


@dataclass
class Sampler:
    """The seats taken, by the attacker and by applicants, every `every` seconds, read by a
    thread of its own on its own connection."""

    database_url: str
    office_id: int
    clock: object  # reopening_stage.Clock
    every: float = 1.0
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import psycopg2

        connection = None
        while True:
            stopping = self._stop.is_set()
            try:
                if connection is None or connection.closed:
                    connection = psycopg2.connect(self.database_url)
                    connection.autocommit = True
                self.samples.append(self.take(connection))
            except psycopg2.Error as error:
                # A connection dropped (the machine's PostgreSQL is shared): a sample is
                # missed, the next one reconnects.
                self.errors.append(f"{self.clock.now():+.0f}s {type(error).__name__}")
                if connection is not None:
                    connection.close()
                connection = None
            if stopping:
                break
            self._stop.wait(self.every)
        if connection is not None:
            connection.close()

    def take(self, connection) -> Sample:
        at = self.clock.now()
        with connection.cursor() as cursor:
            cursor.execute(
                _SAMPLE_SQL, [ATTACKER_NINA_PREFIX + "%", self.office_id, list(SEAT_TAKING)]
            )
            return Sample(at, *cursor.fetchone())

    def at(self, moment: float) -> Sample | None:
        """The first sample taken at or after `moment`."""
        times = [sample.at for sample in self.samples]
        index = bisect.bisect_left(times, moment)
        return self.samples[index] if index < len(self.samples) else None


# At the end -----------------------------------------------------------------------------------

_OVERBOOKED_SQL = """
SELECT count(*), coalesce(sum(taken - capacity), 0) FROM (
    SELECT s.id, s.capacity, count(a.id) AS taken
    FROM appointments_slot s
    JOIN appointments_appointment a ON a.slot_id = s.id AND a.status = ANY(%s)
    WHERE s.office_id = %s
    GROUP BY s.id, s.capacity
    HAVING count(a.id) > s.capacity
) AS over
"""
_CODES_SQL = """
SELECT recipient LIKE %s AS applicant,
       extract(epoch FROM coalesce(sent_at, now()) - created_at) AS delay,
       status
FROM appointments_outboxmessage
WHERE kind = 'booking_code' AND channel = 'sms'
"""


def final_counts(database_url: str, office_id: int) -> dict:
    """Overbooked slots and seats (appointments taking a seat, pending holds included,
    against each slot's capacity: not Slot.booked and its trigger), and the delay of every
    code SMS from its creation in the outbox to its sending (to now if unsent)."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(_OVERBOOKED_SQL, [list(SEAT_TAKING), office_id])
            slots, seats = cursor.fetchone()
            cursor.execute(_CODES_SQL, ["+2237%"])
            codes = cursor.fetchall()
            cursor.execute(
                "SELECT status, count(*) FROM appointments_outboxmessage GROUP BY status"
            )
            outbox = dict(cursor.fetchall())
    finally:
        connection.close()
    applicant_delays = [float(delay) for applicant, delay, _status in codes if applicant]
    all_delays = [float(delay) for _applicant, delay, _status in codes]
    unsent = sum(1 for _applicant, _delay, status in codes if status != "sent")
    return {
        "overbooked_slots": int(slots),
        "overbooked_seats": int(seats),
        "codes": len(all_delays),
        "codes_late": sum(1 for delay in all_delays if delay > LATE_CODE_SECONDS),
        "codes_unsent": unsent,
        "applicant_codes": len(applicant_delays),
        "applicant_codes_late": sum(1 for d in applicant_delays if d > LATE_CODE_SECONDS),
        "applicant_code_p50_s": _round(percentile(applicant_delays, 50)),
        "applicant_code_p95_s": _round(percentile(applicant_delays, 95)),
        "outbox": outbox,
    }


# Statistics ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile, linear between the closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def kendall_tau(first: list[float], second: list[float]) -> float | None:
    """Kendall's tau-b between two rankings of the same items (ties allowed): +1 the same
    order, 0 unrelated, -1 reversed. O(n²): a few thousand items take a second or two."""
    n = len(first)
    if n < 2 or n != len(second):
        return None
    concordant = discordant = ties_first = ties_second = 0
    for i in range(n):
        a_i, b_i = first[i], second[i]
        for j in range(i + 1, n):
            a, b = a_i - first[j], b_i - second[j]
            if a == 0 and b == 0:
                continue
            if a == 0:
                ties_first += 1
            elif b == 0:
                ties_second += 1
            elif (a > 0) == (b > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt(
        (concordant + discordant + ties_first) * (concordant + discordant + ties_second)
    )
    return (concordant - discordant) / denominator if denominator else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def wait_until_wall(moment: datetime) -> None:
    delay = (moment - datetime.now(UTC)).total_seconds()
    if delay > 0:
        time.sleep(delay)
